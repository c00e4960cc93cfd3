"""`make import`: import a drop's products, sizes and stock from a CSV file, with a progress bar.

The same import as the studio's page (``chalicelib.studio.imports``): every row is checked and every
problem printed; nothing is written unless all rows are good. Reads and writes the table the
environment points at (``DROPFRONT_DYNAMODB_ENDPOINT`` for the `make run` database, else AWS).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from chalicelib import wiring
from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import DomainError
from chalicelib.core.models import iso
from chalicelib.studio.imports import Progress, run_import
from devtools import progress


def import_file(slug: str, path: Path, who: str) -> dict[str, int]:
    """Import ``path`` into drop ``slug``; the counts imported. ``DomainError`` if refused."""
    catalog = wiring.catalog_store().drop_catalog(slug)
    if catalog is None:
        raise SystemExit(f"There is no drop called {slug!r}.")
    text = path.read_text(encoding="utf-8-sig")
    outcome: dict[str, int] = {}
    for step in run_import(
        wiring.product_imports(),
        catalog,
        text,
        lambda summary: AuditEntry(slug, who, "import", summary, iso(wiring.utcnow())),
        wiring.utcnow,
    ):
        if isinstance(step, Progress):
            progress.draw(step.done, step.total, "rows checked" if step.phase == "check" else "items written")
            if step.done == step.total:
                print(file=sys.stderr)
        else:
            outcome = step["imported"]
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--drop", required=True, help="the drop's slug, e.g. winter-knit")
    parser.add_argument("csv", type=Path, help="the CSV file")
    args = parser.parse_args()
    try:
        counts = import_file(args.drop, args.csv, f"cli:{getpass.getuser()}")
    except DomainError as refused:
        print(f"\n{refused.message}", file=sys.stderr)
        for problem in refused.details or []:
            where = f"line {problem['line']}, " if "line" in problem else ""
            print(f"  {where}{problem.get('field') or 'row'}: {problem['problem']}", file=sys.stderr)
        raise SystemExit(1) from None
    imported = f"{counts['skus']} SKUs, {counts['stock_lines']} stock lines, {counts['units']} units"
    print(f"Imported {imported} into {args.drop}.")


if __name__ == "__main__":
    main()
