"""After `make deploy`: publish the shipped page templates into a fresh stage's store, and run the
minute sweep once, so the edge's KeyValueStore holds the segment keys and the drops' documents
before the first shopper arrives (the sweep carries the awscrt its writes need; this machine need not).

The studio then starts from exactly what shoppers see, as version 1 of each page. A store that
already holds versions is left alone, so running it again after every deploy is safe.
Reads the table and the keys' secret from the stack's outputs (``--outputs``, written by `make
deploy`), with the caller's AWS credentials.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from pathlib import Path

from chalicelib import wiring
from chalicelib.studio.templates import publish_shipped_if_empty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outputs", type=Path, required=True, help="cdk deploy's --outputs-file")
    outputs = next(iter(json.loads(parser.parse_args().outputs.read_text()).values()))
    os.environ["DROPFRONT_TABLE"] = outputs["TableName"]
    os.environ["DROPFRONT_SECRET_KEYS_SECRET"] = outputs["SigningKeysSecret"]
    published = publish_shipped_if_empty(wiring.templates(), f"deploy:{getpass.getuser()}", wiring.utcnow())
    print(f"published the shipped {', '.join(published)} template(s)" if published else "the store has templates")
    import boto3

    answer = boto3.session.Session().client("lambda").invoke(FunctionName=outputs["SweepFunction"])
    if answer.get("FunctionError"):
        raise SystemExit(f"the sweep failed: {answer['Payload'].read().decode()[:500]}")
    print("the edge's KeyValueStore holds the current keys and drops")


if __name__ == "__main__":
    main()
