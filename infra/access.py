"""The DynamoDB actions each function may call: exactly the operations its code runs (a transaction's
Put, Update, Delete and ConditionCheck need their item-level actions), nothing with a wildcard.
``tests/infra`` holds these against the operations the code actually calls."""

from __future__ import annotations

READS = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem")
SHOPPER = (*READS, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem")
"""Pages, offers, bookings, try-ons and tills: conditional writes and transactions, never deletes."""

STUDIO = (*SHOPPER, "dynamodb:BatchWriteItem")
"""The studio also batch-writes: an import stages the drop's next generation of SKUs and stock, and
deletes the generation it replaced (or one a stopped import left), 25 items a call."""

SWEEP = (
    "dynamodb:Query",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
)
"""The minute sweep: releases expired holds, records scheduled publishes, and sends the outbox (a sent
message's waiting pointer is deleted, a retried one's moved)."""

SEED = ("dynamodb:BatchWriteItem", "dynamodb:PutItem")
"""The post-deploy step (an operator's credentials) seeds with these."""

EDGE_LOGS = ("dynamodb:GetItem", "dynamodb:UpdateItem")
"""Counting first views from CloudFront's log: the drop's policy read, its counters added to."""

SECRETS = ("secretsmanager:GetSecretValue",)
EDGE_STORE = (  # the sweep and the studio keep the edge's KeyValueStore current
    "cloudfront-keyvaluestore:DescribeKeyValueStore",
    "cloudfront-keyvaluestore:ListKeys",
    "cloudfront-keyvaluestore:PutKey",
    "cloudfront-keyvaluestore:DeleteKey",
)

WARM_UP = (
    "application-autoscaling:PutScheduledAction",
    "application-autoscaling:DeleteScheduledAction",
    "application-autoscaling:DescribeScheduledActions",
)
"""The studio keeps each drop's warm-up window (``chalicelib.warming``): scheduled actions on the
shopper alias's provisioned concurrency. Application Auto Scaling takes no resource ARNs for these."""

LAUNCH_SWITCH = (
    "scheduler:CreateSchedule",
    "scheduler:UpdateSchedule",
    "scheduler:DeleteSchedule",
    "scheduler:GetSchedule",
)
"""The studio schedules a launch's two route switches (EventBridge Scheduler, in the launches group)."""
