"""The mail adapter: Amazon SES (``sesv2``) sends an outbox message as one raw MIME message, its
text and HTML alternatives, inline images and attachments (a pickup's QR and calendar event).

The client is built on first use with its own timeouts; SES's throttling and outages are
``MailUnavailable`` (the sweep tries again later), its refusals ``MailRejected``.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from typing import Any

from chalicelib.config import settings
from chalicelib.outbox.ports import Email, MailRejected, MailUnavailable

REFUSALS = frozenset(
    {"MessageRejected", "MailFromDomainNotVerifiedException", "BadRequestException", "NotFoundException"}
)


def mime(email: Email, sender: str) -> bytes:
    """The message as SES sends it: text and HTML alternatives, inline images beside the HTML (so
    ``cid:`` links resolve), and the other attachments."""
    message = EmailMessage(policy=SMTP)
    message["From"], message["To"], message["Subject"] = sender, email.to, email.subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].rstrip(">") or None)
    message.set_content(email.text, cte="quoted-printable")  # 7-bit safe through any relay
    message.add_alternative(email.html, subtype="html", cte="quoted-printable")
    html_part = next(part for part in message.iter_parts() if part.get_content_type() == "text/html")
    assert isinstance(html_part, EmailMessage)
    for attachment in email.attachments:
        maintype, _, rest = attachment.content_type.partition("/")
        subtype, _, params = rest.partition(";")
        if attachment.inline_id:
            cid = f"<{attachment.inline_id}>"
            html_part.add_related(attachment.data, maintype, subtype.strip(), cid=cid, filename=attachment.filename)
            continue
        extra = dict(part.strip().split("=", 1) for part in params.split(";") if "=" in part)
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype.strip(), filename=attachment.filename, params=extra
        )
    return message.as_bytes()


class SesMailer:
    """Sends through SES v2 from the configured sender (a verified identity)."""

    def __init__(self, sender: str | None = None, client: Any = None) -> None:
        self._sender = sender or settings().mail_from
        self._client = client

    def _ses(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            s = settings()
            self._client = boto3.session.Session().client(
                "sesv2",
                region_name=s.region,
                endpoint_url=s.ses_endpoint,
                config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 2}),
            )
        return self._client

    def send(self, email: Email) -> str:
        """Send ``email``; SES's message id."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._ses().send_email(
                FromEmailAddress=self._sender,
                Destination={"ToAddresses": [email.to]},
                Content={"Raw": {"Data": mime(email, self._sender)}},
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in REFUSALS:
                raise MailRejected(f"{code}: {error}") from error
            raise MailUnavailable(f"{code}: {error}") from error
        except BotoCoreError as error:
            raise MailUnavailable(str(error)) from error
        return str(answer["MessageId"])
