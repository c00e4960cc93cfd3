"""Notify me: a shopper leaves an address to hear when a teaser opens, or when a sold-out size comes
back. Double opt-in: the address gets one message with a signed link, and only once that link is
opened does it join the list. When the moment comes, the minute sweep queues one message for each
confirmed subscriber, in the same transaction that marks them told, so nobody hears twice."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, ValidationError

from chalicelib.catalog.reader import Catalog, drop_status
from chalicelib.core.errors import NotFound, Unauthorized, Unprocessable
from chalicelib.core.model import Model
from chalicelib.core.models import (
    DropCatalog,
    DropStatus,
    EmailAddress,
    SizeLabel,
    SkuCode,
    epoch_seconds,
    iso,
    localized,
)
from chalicelib.core.tokens import InvalidToken, Purpose, sign, verify
from chalicelib.i18n.locales import LANG_PATTERN
from chalicelib.outbox.ports import Email, MessageKind, MessageRecord, QueuedMessage
from chalicelib.pages.environment import template, translations
from chalicelib.pages.frame import page_frame
from chalicelib.shop.ports import Subscription, SubscriptionState, SubscriptionStore
from chalicelib.shop.shopper import checked_slug, page_locales


class NotifyRequest(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)

    email: EmailAddress
    locale: Annotated[str, Field(pattern=LANG_PATTERN.pattern)] | None = None
    sku: SkuCode | None = None
    size: SizeLabel | None = None


class NotifyFields(Model):
    """The notify-me form on a teaser or under a sold-out size, as the page posts it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    ft: Annotated[str, Field(max_length=512)] = ""
    email: Annotated[str, Field(max_length=512)] = ""
    sku: Annotated[str, Field(max_length=64)] = ""
    size: Annotated[str, Field(max_length=64)] = ""

    def request(self, lang: str | None) -> NotifyRequest:
        """The request it makes; ``Unprocessable`` (the error page says why) for an address that is not one."""
        try:
            return NotifyRequest(email=self.email, locale=lang, sku=self.sku or None, size=self.size or None)
        except ValidationError:
            raise Unprocessable("That does not look like an email address.", code="invalid_email") from None


def _message(kind: MessageKind, subscription: Subscription, subject: str, now: datetime) -> QueuedMessage:
    about = f"{subscription.drop}/{subscription.key}"
    return QueuedMessage(
        id=f"{kind.value}-{about}".replace("#", ".").replace("/", "."),  # one of each per subscription
        kind=kind,
        to=subscription.email,
        locale=subscription.locale,
        subject=subject,
        about=about,
        due_at=epoch_seconds(now),
        created_at=iso(now),
    )


def ask_to_notify(store: SubscriptionStore, catalog: Catalog, slug: str, request: NotifyRequest, now: datetime) -> None:
    """Ask for the confirmation message. Asking again, or for an address already on the list, changes
    nothing and says nothing more (an address's subscriptions are not for others to probe)."""
    drop = catalog.drop(checked_slug(slug))
    if request.size is not None and request.sku is None:
        raise Unprocessable("Name the piece whose size you are waiting for.", code="size_without_sku")
    sizes = {sku.sku: sku.sizes for sku in drop.skus}
    if request.sku is not None and (request.sku not in sizes or request.size not in (None, *sizes[request.sku])):
        raise Unprocessable(f"{request.sku} {request.size or ''} is not part of this drop.", code="unknown_item")
    locales = page_locales(drop)
    locale = request.locale if request.locale in locales else drop.drop.default_market.default_locale
    subscription = Subscription(
        drop.drop.slug, request.email, locale, request.sku, request.size, SubscriptionState.PENDING, iso(now)
    )
    name = localized(drop.drop.name, locale, drop.drop.default_market.default_locale)
    subject = translations(locale).gettext("Confirm: tell me about %(drop)s") % {"drop": name}
    store.subscribe(subscription, _message(MessageKind.NOTIFY_CONFIRM, subscription, subject, now))


def confirmation_token(subscription: Subscription) -> str:
    return sign(Purpose.NOTIFY, {"d": subscription.drop, "k": subscription.key})


def confirm(store: SubscriptionStore, token: str, now: datetime) -> Subscription:
    """Open the confirmation link: the address joins the list (once; opening it again is fine)."""
    try:
        claim = verify(Purpose.NOTIFY, token) if len(token) <= 512 else None
    except InvalidToken:
        claim = None
    if not isinstance(claim, dict) or not isinstance(claim.get("d"), str) or not isinstance(claim.get("k"), str):
        raise Unauthorized("That confirmation link is not valid or has expired.", code="invalid_token")
    subscription = store.subscription(claim["d"], claim["k"])
    if subscription is None:
        raise NotFound("We could not find that request any more.", code="subscription_not_found")
    if subscription.state is SubscriptionState.PENDING:
        store.confirm(subscription.drop, subscription.key, iso(now))
        return store.subscription(subscription.drop, subscription.key) or subscription
    return subscription


def queue_notifications(store: SubscriptionStore, catalog: Catalog, now: datetime) -> int:
    """For each live drop, tell each confirmed subscriber whose moment has come: the drop is open, or
    their size is at a pop-up again. The messages queued."""
    queued = 0
    for drop in catalog.all_drops():
        if not drop.starts_at <= now < drop.ends_at:
            continue
        waiting = store.waiting(drop.slug)
        if not waiting:
            continue
        stock = catalog.stock(drop)
        if drop_status(drop, now, stock.total) is not DropStatus.LIVE:
            continue
        drop_catalog = catalog.drop(drop.slug)
        popups = [loc.id for loc in drop_catalog.locations if loc.kind == "popup"]
        sizes_of = {sku.sku: sku.sizes for sku in drop_catalog.skus}
        for subscription in waiting:
            if subscription.sku is None:
                kind = MessageKind.DROP_OPEN
            else:
                sizes = [subscription.size] if subscription.size else list(sizes_of.get(subscription.sku, ()))
                units = sum(stock.units(subscription.sku, size, popup) for size in sizes for popup in popups)
                if units <= 0:
                    continue
                kind = MessageKind.BACK_IN_STOCK
            gettext = translations(subscription.locale).gettext
            name = localized(drop.name, subscription.locale, drop.default_market.default_locale)
            subjects = {
                MessageKind.DROP_OPEN: gettext("%(drop)s is open"),
                MessageKind.BACK_IN_STOCK: gettext("Back at the pop-ups: %(drop)s"),
            }
            message = _message(kind, subscription, subjects[kind] % {"drop": name}, now)
            queued += store.notify(subscription, message, iso(now))
    return queued


NOTIFY_KINDS = frozenset({MessageKind.NOTIFY_CONFIRM, MessageKind.DROP_OPEN, MessageKind.BACK_IN_STOCK})


def render_notify_email(
    record: MessageRecord, store: SubscriptionStore, catalog: Catalog, base_url: str
) -> Email | None:
    """A notify-me message's words; None once the subscription is gone."""
    message = record.message
    drop_slug, _, key = message.about.partition("/")
    subscription = store.subscription(drop_slug, key)
    if subscription is None:
        return None
    try:
        drop = catalog.drop(drop_slug)
    except NotFound:
        return None
    locale, fallback = message.locale, drop.drop.default_market.default_locale
    names = {sku.sku: localized(sku.name, locale, fallback) for sku in drop.skus}
    context = {
        "kind": message.kind.value,
        "lang": locale.replace("_", "-"),
        "drop_name": localized(drop.drop.name, locale, fallback),
        "piece": names.get(subscription.sku or "", ""),
        "size": subscription.size or "",
        "confirm_url": f"{base_url}/notify/confirm?t={confirmation_token(subscription)}&lang={locale}",
        "drop_url": f"{base_url}/drops/{drop_slug}?lang={locale}",
    }
    return Email(
        to=message.to,
        subject=message.subject,
        text=template(locale, "email/notify.txt").render(context),
        html=template(locale, "email/notify.html").render(context),
    )


def render_confirmed_page(subscription: Subscription, drop: DropCatalog, nonce: str) -> str:
    """The page a confirmation link opens: on the list, for what, and the way back to the drop."""
    locale, fallback = subscription.locale, drop.drop.default_market.default_locale
    names = {sku.sku: localized(sku.name, locale, fallback) for sku in drop.skus}
    return template(locale, "notify.html").render(
        **page_frame(locale, nonce),
        drop_name=localized(drop.drop.name, locale, fallback),
        piece=names.get(subscription.sku or "", ""),
        size=subscription.size or "",
        drop_url=f"/drops/{subscription.drop}?lang={locale}",
    )
