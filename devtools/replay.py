"""`make replay DECISION=<id>`: a logged pricing decision, recomputed against the policy version it
names, with what went in, what came out, and whether it still comes out the same. Exit status 0 if
it matches, 1 if it differs, 2 if it cannot be found.

Against `make run` (the default) it reads the shop's request log under .run/ and the embedded
DynamoDB; against AWS, set DROPFRONT_DECISION_LOG_GROUPS (the shopper functions' log groups, the
stack's outputs) and DROPFRONT_TABLE, with AWS credentials.
"""

from __future__ import annotations

import argparse
import os
import sys

from devtools.run import LOCAL_SECRET, REQUEST_LOGS

LOCAL_DYNAMODB = "http://127.0.0.1:8002"


def use_make_run() -> None:
    """Point at `make run`'s newest request log and its embedded DynamoDB unless told otherwise."""
    if os.environ.get("DROPFRONT_DECISION_LOG_GROUPS") or os.environ.get("DROPFRONT_DECISION_LOG_FILE"):
        return
    logs = sorted(REQUEST_LOGS.glob("shop-*.log"), key=lambda path: path.stat().st_mtime)
    if logs:
        os.environ["DROPFRONT_DECISION_LOG_FILE"] = str(logs[-1])
    os.environ.setdefault("DROPFRONT_DYNAMODB_ENDPOINT", LOCAL_DYNAMODB)
    os.environ.setdefault("DROPFRONT_SECRET_KEYS", LOCAL_SECRET)
    from devtools.embedded_dynamodb import FAKE_CREDENTIALS

    for key, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(key, value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("decision", help="the decision id: 32 hexadecimal digits, a dash and a number")
    decision = parser.parse_args(argv).decision
    use_make_run()
    from chalicelib.core.errors import DomainError
    from chalicelib.studio.replays import described, find_and_replay

    try:
        result = described(find_and_replay(decision.strip()), "UTC")
    except DomainError as refused:
        print(refused, file=sys.stderr)
        return 2
    print(f"decision {result['decision_id']} · drop {result['drop']} · pricing version {result['policy_version']}")
    print("\nwhat went in")
    for name, value in result["inputs"].items():
        print(f"  {name:<28} {value}")
    print(f"\n  {'what came out':<28} {'recorded':<32} recomputed")
    for name, value in result["recorded"].items():
        print(f"  {name:<28} {value:<32} {result['recomputed'][name]}")
    verdict = "matches" if result["matches"] else "DIFFERS in " + ", ".join(result["differences"])
    print(f"\n{verdict}")
    return 0 if result["matches"] else 1


if __name__ == "__main__":
    sys.exit(main())
