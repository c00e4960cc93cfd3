"""The CDK app: dropfront's dev and prod stages from one stack definition.

    python -m infra.cdk_app                 # synthesize both stages into build/cdk.out (offline)
    npx aws-cdk deploy --app "python -m infra.cdk_app" dropfront-prod   # see docs/deploy.md

The Lambda package is built first (``chalice package`` plus precompiled bytecode) into
``build/package`` unless ``DROPFRONT_PACKAGE_DIR`` names an existing one.
"""

from __future__ import annotations

import os
from pathlib import Path

from aws_cdk import App, Aspects, Environment
from cdk_nag import AwsSolutionsChecks

from devtools.package import build
from infra.stack import DropfrontStack
from infra.stages import STAGES

ROOT = Path(__file__).resolve().parent.parent


def package_dir() -> Path:
    given = os.environ.get("DROPFRONT_PACKAGE_DIR")
    if given:
        return Path(given)
    out = ROOT / "build" / "package"
    build(out, stage="prod")
    return out


def make_app(package: Path, outdir: str | None = None) -> App:
    app = App(outdir=outdir or str(ROOT / "build" / "cdk.out"))
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    env = Environment(account=account, region=region) if account and region else None
    for stage in STAGES.values():
        DropfrontStack(app, stage, package, env=env)
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app


if __name__ == "__main__":
    make_app(package_dir()).synth()
