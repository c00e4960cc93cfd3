"""The AWS deployment: a CDK app (``infra/cdk_app.py``) with one stack definition for every stage."""
