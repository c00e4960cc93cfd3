"""The CDK app, synthesized offline: every resource the deploy needs with its key settings, the table
exactly as the code defines it, least-privilege IAM, cfn-lint and cdk-nag clean."""

from __future__ import annotations

import ast
import json
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from chalicelib.store import schema
from infra import access
from infra.edge_rules import CACHED, LIVE_STOCK, ORIGIN_HEADERS, PAGES, VIEWER_IP_HEADER, function_code
from infra.stack import ORIGIN_CHECK_HEADER, VIEWER_HEADERS
from infra.stages import POPUP_WIFI_PEAK_PER_5_MIN, STAGES

ROOT = Path(__file__).resolve().parents[2]
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS's managed policy id


@pytest.fixture(scope="module")
def assembly(lambda_package: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    from infra.cdk_app import make_app

    out = tmp_path_factory.mktemp("cdk") / "cdk.out"
    make_app(lambda_package, str(out)).synth()
    yield out


def template_json(assembly: Path, stage: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((assembly / f"dropfront-{stage}.template.json").read_text())
    return loaded


@pytest.fixture(scope="module", params=["dev", "prod"])
def stage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def template(assembly: Path, stage: str) -> Template:
    return Template.from_json(template_json(assembly, stage))


def resources(template: Template, kind: str) -> dict[str, Any]:
    found = {name: dict(value) for name, value in template.find_resources(kind).items()}
    return found


def test_the_table_is_the_one_the_code_defines(template: Template, stage: str) -> None:
    [table] = resources(template, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    code = schema.table_definition(f"dropfront-{stage}")
    assert props["TableName"] == code["TableName"] and props["BillingMode"] == code["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == code["KeySchema"]
    assert props["AttributeDefinitions"] == code["AttributeDefinitions"]
    assert props["GlobalSecondaryIndexes"] == code["GlobalSecondaryIndexes"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    assert props["DeletionProtectionEnabled"] is (stage == "prod")
    assert table["DeletionPolicy"] == ("Retain" if stage == "prod" else "Delete")


def test_five_functions_from_the_package(template: Template) -> None:
    functions = {n: f for n, f in resources(template, "AWS::Lambda::Function").items() if "Handler" in f["Properties"]}
    functions = {n: f for n, f in functions.items() if f["Properties"]["Handler"].startswith("app.")}
    by_handler = {f["Properties"]["Handler"]: f["Properties"] for f in functions.values()}
    assert set(by_handler) == {"app.app", "app.studio", "app.minute_sweep", "app.edge_logs"}
    assert len(functions) == 5  # app.app twice
    for props in by_handler.values():
        assert props["Runtime"] == "python3.13" and props["Architectures"] == ["x86_64"]
        assert "DROPFRONT_SECRET_KEYS_SECRET" in props["Environment"]["Variables"]
        assert "DROPFRONT_SECRET_KEYS" not in props["Environment"]["Variables"]
    assert by_handler["app.app"]["MemorySize"] == 1769  # one vCPU: CPU-bound renders cost the same, faster
    studio = by_handler["app.studio"]["Environment"]["Variables"]
    assert {"DROPFRONT_COGNITO_ISSUER", "DROPFRONT_COGNITO_CLIENT_ID"} <= set(studio)
    # The studio is its own origin: its previews take the shop's media from CloudFront, by absolute URL.
    assert (
        "DROPFRONT_MEDIA_URL" in studio
        and "DROPFRONT_MEDIA_URL" not in by_handler["app.app"]["Environment"]["Variables"]
    )
    template.has_resource_properties("AWS::Lambda::Url", {"AuthType": "NONE"})
    template.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "rate(1 minute)"})


def test_the_rest_api_is_chalices_routes_pointed_at_the_shopper_function(template: Template) -> None:
    [api] = resources(template, "AWS::ApiGateway::RestApi").values()
    paths = api["Properties"]["Body"]["paths"]
    assert {"/drops/{slug}", "/api/pickups", "/api/tryons", "/t/{qr_token}"} <= set(paths)
    uris = {json.dumps(op["x-amazon-apigateway-integration"]["uri"]) for ops in paths.values() for op in ops.values()}
    assert len(uris) == 1 and "stageVariables.shopper" in next(iter(uris))  # an alias of app.app (test below)
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {"StageName": "api", "AccessLogSetting": Match.object_like({}), "MethodSettings": Match.any_value()},
    )


def test_the_shopper_function_snapstarts_and_a_twin_takes_launches_warm(template: Template, stage: str) -> None:
    """SnapStart and provisioned concurrency cannot share a version: the shopper function snapshots
    each version; its twin (same package, no SnapStart) is the scalable target the studio warms for a
    launch; the API stage invokes whichever alias its ``shopper`` variable names, the SnapStart one
    between launches."""
    functions = resources(template, "AWS::Lambda::Function")
    shoppers = {name: f["Properties"] for name, f in functions.items() if f["Properties"]["Handler"] == "app.app"}
    snapped = [name for name, props in shoppers.items() if props.get("SnapStart") == {"ApplyOn": "PublishedVersions"}]
    assert len(shoppers) == 2 and len(snapped) == 1
    [everyday] = snapped
    [twin] = set(shoppers) - {everyday}
    assert all("SnapStart" not in f["Properties"] for name, f in functions.items() if name != everyday)
    aliases = {
        a["Properties"]["FunctionName"]["Ref"]: (name, a["Properties"])
        for name, a in resources(template, "AWS::Lambda::Alias").items()
    }
    assert set(aliases) == {everyday, twin} and {props["Name"] for _, props in aliases.values()} == {"live"}
    [api_def] = resources(template, "AWS::ApiGateway::RestApi").values()
    uris = {
        json.dumps(op["x-amazon-apigateway-integration"]["uri"])
        for ops in api_def["Properties"]["Body"]["paths"].values()
        for op in ops.values()
    }
    assert len(uris) == 1 and "function:${!stageVariables.shopper}/invocations" in next(iter(uris))
    [api_stage] = resources(template, "AWS::ApiGateway::Stage").values()
    assert (
        json.dumps(api_stage["Properties"]["Variables"]["shopper"]).count(everyday) == 1
    )  # SnapStart between launches
    for function in (everyday, twin):
        alias_name = aliases[function][0]
        template.has_resource_properties(
            "AWS::Lambda::Permission", {"FunctionName": {"Ref": alias_name}, "Principal": "apigateway.amazonaws.com"}
        )
    [target] = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    props = target["Properties"]
    assert (
        props["ScalableDimension"] == "lambda:function:ProvisionedConcurrency" and props["ServiceNamespace"] == "lambda"
    )
    assert props["MinCapacity"] == 0 and props["MaxCapacity"] == STAGES[stage].max_warm_instances
    assert twin in json.dumps(props["ResourceId"]) and everyday not in json.dumps(props["ResourceId"])
    [studio] = [f["Properties"] for f in functions.values() if f["Properties"]["Handler"] == "app.studio"]
    route = json.dumps(studio["Environment"]["Variables"]["DROPFRONT_LAUNCH_ROUTE"])
    assert all(
        key in route for key in ("target", "rest_api_id", "everyday", "launch", "schedule_group", "scheduler_role_arn")
    )
    template.resource_count_is("AWS::Scheduler::ScheduleGroup", 1)
    switch = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "apigateway:PATCH"
    ]
    assert len(switch) == 1 and "/stages/api" in json.dumps(switch[0]["Resource"])  # that stage only
    granted = {
        action
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert set(access.WARM_UP) | set(access.LAUNCH_SWITCH) | {"iam:PassRole"} <= granted


def test_the_studio_signs_in_with_cognito_groups_as_roles(template: Template) -> None:
    template.resource_count_is("AWS::Cognito::UserPool", 1)
    groups = {g["Properties"]["GroupName"] for g in resources(template, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"editor", "publisher", "staff"}
    template.has_resource_properties("AWS::Cognito::UserPoolClient", {"GenerateSecret": False})
    template.has_resource_properties("AWS::Cognito::UserPool", {"MfaConfiguration": "ON"})


def test_cloudfront_forwards_the_viewer_keeps_landing_pages_a_second_and_media_a_year(template: Template) -> None:
    policies = resources(template, "AWS::CloudFront::OriginRequestPolicy")
    [everything] = [
        p["Properties"]["OriginRequestPolicyConfig"] for n, p in policies.items() if n.startswith("ViewerContext")
    ]
    assert set(everything["HeadersConfig"]["Headers"]) == {*VIEWER_HEADERS, *ORIGIN_HEADERS}
    [distribution] = resources(template, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["CachePolicyId"] == CACHING_DISABLED
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviours) == {"/media/*", PAGES.path, LIVE_STOCK.path}
    assert behaviours["/media/*"]["CachePolicyId"] != CACHING_DISABLED
    kept = {
        p["Properties"]["CachePolicyConfig"]["Comment"].split(":")[0]: p["Properties"]["CachePolicyConfig"]
        for p in resources(template, "AWS::CloudFront::CachePolicy").values()
    }
    assert set(kept) == {b.path for b in CACHED}
    for behaviour in CACHED:
        policy = kept[behaviour.path]
        assert policy["MaxTTL"] == 1 and policy["DefaultTTL"] == 0 and policy["MinTTL"] == 0
        key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
        assert set(key["HeadersConfig"].get("Headers", [])) == set(behaviour.headers)
        assert set(key["QueryStringsConfig"].get("QueryStrings", [])) == set(behaviour.query)
        assert key["CookiesConfig"]["CookieBehavior"] == "none"  # the segment key stands for the cookie
    assert {e["ErrorCode"]: e["ErrorCachingMinTTL"] for e in config["CustomErrorResponses"]}[503] == 0
    template.resource_count_is("AWS::CloudFront::OriginAccessControl", 1)
    [headers_policy] = resources(template, "AWS::CloudFront::ResponseHeadersPolicy").values()
    custom = headers_policy["Properties"]["ResponseHeadersPolicyConfig"]["CustomHeadersConfig"]["Items"]
    assert any(h["Header"] == "Cache-Control" and "stale-if-error" in h["Value"] for h in custom)
    cors = headers_policy["Properties"]["ResponseHeadersPolicyConfig"]["CorsConfig"]
    assert cors["AccessControlAllowOrigins"] == {"Items": ["*"]} and cors["AccessControlAllowCredentials"] is False
    [bucket] = [b for b in resources(template, "AWS::S3::Bucket").values() if "LoggingConfiguration" in b["Properties"]]
    assert bucket["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True


def test_waf_rate_limits_booking_try_on_and_till_routes_and_caps_bodies(template: Template) -> None:
    [acl] = resources(template, "AWS::WAFv2::WebACL").values()
    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    rate = rules["BookingTryOnTillRate"]["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "FORWARDED_IP"
    assert rate["Limit"] >= 2 * POPUP_WIFI_PEAK_PER_5_MIN  # a pop-up's shoppers share one address
    assert rate["ForwardedIPConfig"]["HeaderName"] == VIEWER_IP_HEADER  # never X-Forwarded-For, which clients write
    scoped = {s["ByteMatchStatement"]["SearchString"] for s in rate["ScopeDownStatement"]["OrStatement"]["Statements"]}
    assert scoped == {"/api/pickups", "/api/holds", "/reserve", "/api/tryons", "/api/staff/", "/api/pos/"}
    size = rules["BodyTooLarge"]["Statement"]["SizeConstraintStatement"]
    assert size["ComparisonOperator"] == "GT" and size["Size"] == 64 * 1024
    template.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)


def test_api_gateways_own_answers_carry_the_envelope_and_the_security_headers(template: Template) -> None:
    [api] = resources(template, "AWS::ApiGateway::RestApi").values()
    answers = api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]
    kinds = {"MISSING_AUTHENTICATION_TOKEN", "UNSUPPORTED_MEDIA_TYPE", "THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX"}
    assert kinds <= set(answers)
    assert answers["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == 404  # an unknown route is not forbidden
    for answer in answers.values():
        body = answer["responseTemplates"]["application/json"]
        assert json.loads(body.replace("$context.error.messageString", '"m"'))["error"]["code"]
        headers = answer["responseParameters"]
        for name in ("Strict-Transport-Security", "X-Content-Type-Options", "Content-Security-Policy", "Cache-Control"):
            assert f"gatewayresponse.header.{name}" in headers


def test_alarms_and_the_numbers_dashboard(template: Template) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    watched = {a["Properties"].get("MetricName") for a in alarms}
    assert {
        "5XXError",
        "Latency",
        "Throttles",
        "GuardrailFailClosed",
        "TemplateFallback",
        "TemplateBreakerOpen",
        "DynamoDBContention",
        "MessageFailed",
    } <= watched
    assert any(a["Properties"].get("ExtendedStatistic") == "p99" for a in alarms)
    assert all(a["Properties"]["AlarmActions"] for a in alarms)
    [dashboard] = resources(template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert all(metric in body for metric in ("PageView", "QrScan", "TryOnRequested", "SoldAfterTryOn", "OfferShown"))
    # each metric found by the dimensions the app gives it (telemetry): a metric is its name and dimensions
    searches = re.findall(r"\{dropfront,([a-z,]+)\} MetricName=\\+\"(\w+)", body)
    assert ("service,drop,page", "PageView") in searches
    assert {("service,cell", "OfferShown"), ("service,cell", "DiscountDepthBps")} <= set(searches)
    assert '"dropfront", "OfferShown"' not in body  # no widget reads it without its dimensions


def statements(template: Template) -> Iterator[dict[str, Any]]:
    for policy in resources(template, "AWS::IAM::Policy").values():
        yield from policy["Properties"]["PolicyDocument"]["Statement"]


def test_no_policy_grants_a_wildcard_action(template: Template) -> None:
    for statement in statements(template):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any("*" in action for action in actions), statement


def test_each_function_gets_exactly_its_dynamodb_actions(template: Template) -> None:
    roles = {}
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        granted = {
            action
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
            if action.startswith("dynamodb:")
        }
        roles[re.sub(r"RoleDefaultPolicy.*", "", name)] = granted
    assert {role: actions for role, actions in roles.items() if actions} == {
        "Api": set(access.SHOPPER),
        "ApiLaunch": set(access.SHOPPER),
        "Studio": set(access.STUDIO),
        "Sweep": set(access.SWEEP),
        "EdgeLogs": set(access.EDGE_LOGS),
    }
    assert "dynamodb:DeleteItem" not in roles["Api"]


def test_only_the_sweep_sends_mail_and_only_from_the_shops_identity(template: Template) -> None:
    [identity] = resources(template, "AWS::SES::EmailIdentity")
    granted = {}
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(action.startswith("ses:") for action in actions):
                granted[re.sub(r"RoleDefaultPolicy.*", "", name)] = (sorted(actions), json.dumps(statement["Resource"]))
    assert list(granted) == ["Sweep"]
    actions, resource = granted["Sweep"]
    assert actions == ["ses:SendEmail", "ses:SendRawEmail"] and identity in resource and "*" not in resource
    [sweep] = [
        f
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "app.minute_sweep"
    ]
    variables = sweep["Properties"]["Environment"]["Variables"]
    assert variables["DROPFRONT_MAIL_FROM"] in {stage.mail_from for stage in STAGES.values()}
    assert "DROPFRONT_PUBLIC_URL" in variables


def test_the_studio_may_put_product_pictures_and_the_log_counter_read_cloudfronts_logs(template: Template) -> None:
    puts = [
        (name, statement)
        for name, policy in resources(template, "AWS::IAM::Policy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(
            str(action).startswith("s3:")
            for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        )
    ]
    by_role = {re.sub(r"RoleDefaultPolicy.*|Policy[0-9A-F]+$", "", name): statement for name, statement in puts}
    assert set(by_role) == {"Studio", "EdgeLogs", "AccessLogsNotificationsHandler"}
    studio_puts, reads_logs = by_role["Studio"], by_role["EdgeLogs"]
    assert studio_puts["Action"] == "s3:PutObject" and "/products/*" in json.dumps(studio_puts["Resource"])
    assert reads_logs["Action"] == "s3:GetObject" and "/cloudfront/*" in json.dumps(reads_logs["Resource"])
    assert by_role["AccessLogsNotificationsHandler"]["Action"] == "s3:PutBucketNotification"  # CDK's, at deploy
    [studio] = [
        f for f in resources(template, "AWS::Lambda::Function").values() if f["Properties"]["Handler"] == "app.studio"
    ]
    assert "DROPFRONT_MEDIA_BUCKET" in studio["Properties"]["Environment"]["Variables"]


def test_the_studio_may_search_the_shoppers_request_logs_for_a_decision_and_nothing_else(template: Template) -> None:
    searches = [
        (name, statement)
        for name, policy in resources(template, "AWS::IAM::Policy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "logs:FilterLogEvents"
    ]
    assert [re.sub(r"RoleDefaultPolicy.*", "", name) for name, _ in searches] == ["Studio"]
    ((_, statement),) = searches
    groups = {
        name for name in resources(template, "AWS::Logs::LogGroup") if name.startswith(("ApiLogs", "ApiLaunchLogs"))
    }
    assert len(groups) == 2 and {ref["Fn::GetAtt"][0] for ref in statement["Resource"]} == groups
    [studio] = [
        f for f in resources(template, "AWS::Lambda::Function").values() if f["Properties"]["Handler"] == "app.studio"
    ]
    named = json.dumps(studio["Properties"]["Environment"]["Variables"]["DROPFRONT_DECISION_LOG_GROUPS"])
    assert all(group in named for group in groups)


TRANSACTION_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def operations_the_code_calls() -> set[str]:
    """Every DynamoDB operation named in chalicelib: the string given to ``call``/``_call`` and the
    item actions inside transactions, as IAM action names."""
    found: set[str] = set()
    for path in (ROOT / "chalicelib").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                op = node.args[0].value
                if name in ("call", "_call", "paginate") and isinstance(op, str) and op != "transact_write_items":
                    found.add("dynamodb:" + "".join(part.title() for part in op.split("_")))
            if isinstance(node, ast.Dict):
                for key in node.keys:
                    if isinstance(key, ast.Constant) and key.value in TRANSACTION_ACTIONS:
                        found.add("dynamodb:" + TRANSACTION_ACTIONS[key.value])
    return found


def test_the_granted_actions_are_ones_the_code_calls() -> None:
    called = operations_the_code_calls()
    granted = set(access.SHOPPER) | set(access.STUDIO) | set(access.SWEEP)
    assert granted <= called, granted - called
    assert called - granted == set(access.SEED) - granted  # only seeding's batch write is left to operators


def test_cfn_lint_is_clean(assembly: Path) -> None:
    """With infra/cfnlintrc.yaml: the deploy regions, and two CDK-shaped warnings justified there."""
    import yaml
    from cfnlint.api import ManualArgs, lint

    settings = yaml.safe_load((ROOT / "infra" / "cfnlintrc.yaml").read_text())
    config = ManualArgs(regions=settings["regions"], ignore_checks=settings["ignore_checks"])
    for stage in ("dev", "prod"):
        matches = lint((assembly / f"dropfront-{stage}.template.json").read_text(), config=config)
        assert [str(m) for m in matches] == []


def test_cdk_nag_finds_nothing_unjustified(assembly: Path) -> None:
    for stage in ("dev", "prod"):
        metadata = json.loads((assembly / f"dropfront-{stage}.metadata.json").read_text())
        problems = [
            e["data"]
            for entries in metadata.values()
            for e in entries
            if e["type"] in ("aws:cdk:error", "aws:cdk:warning")
        ]
        assert problems == []
        report = (assembly / f"AwsSolutions--dropfront-{stage}-NagReport.csv").read_text()
        assert "Non-Compliant" not in report and report.count("Suppressed") >= 5


def test_the_function_code_is_the_finished_package_and_awscrt_a_layer_of_its_own(assembly: Path) -> None:
    contents = {asset.name: set(zipfile.ZipFile(asset).namelist()) for asset in assembly.glob("asset.*.zip")}
    [names] = [n for n in contents.values() if "app.py" in n]
    assert {"app.py", "templates/landing.html", "chalicelib/translations/fr/LC_MESSAGES/messages.mo"} <= names
    assert any(n.startswith("chalicelib/core/__pycache__/models.cpython-313") for n in names)
    assert not any(n.startswith("awscrt/") for n in names)  # the shopper's package stays small
    [layer] = [n for n in contents.values() if "app.py" not in n]
    assert any(n.startswith("python/awscrt/") for n in layer)


def test_the_api_stage_refuses_requests_that_did_not_come_through_cloudfront(template: Template) -> None:
    [acl] = resources(template, "AWS::WAFv2::WebACL").values()
    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    only = rules["OnlyThroughCloudFront"]
    assert only["Priority"] == 0 and "Block" in only["Action"]
    match = only["Statement"]["NotStatement"]["Statement"]["ByteMatchStatement"]
    assert match["FieldToMatch"] == {"SingleHeader": {"Name": ORIGIN_CHECK_HEADER}}
    assert match["PositionalConstraint"] == "EXACTLY"
    # CloudFront adds exactly that value toward the API: the same secret, never written in the template.
    [distribution] = resources(template, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    api = next(o for o in config["Origins"] if "CustomOriginConfig" in o)
    [added] = api["OriginCustomHeaders"]
    assert added["HeaderName"] == ORIGIN_CHECK_HEADER and added["HeaderValue"] == match["SearchString"]
    assert "resolve:secretsmanager" in json.dumps(added["HeaderValue"])
    for behaviour in (
        config["DefaultCacheBehavior"],
        *(b for b in config["CacheBehaviors"] if b["PathPattern"] != "/media/*"),
    ):
        events = {a["EventType"] for a in behaviour["FunctionAssociations"]}
        assert events == {"viewer-request", "viewer-response"}
    [function] = resources(template, "AWS::CloudFront::Function").values()
    assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    code = function["Properties"]["FunctionCode"]
    assert code == function_code() and "function handler(" in code  # what the local edge runs
    assert len(code.encode()) <= 10_240  # CloudFront Functions' quota
    template.resource_count_is("AWS::CloudFront::KeyValueStore", 1)
    [association] = function["Properties"]["FunctionConfig"]["KeyValueStoreAssociations"]
    assert "EdgeStore" in json.dumps(association)


def test_only_the_sweep_and_the_studio_write_the_edge_store_and_carry_awscrt(template: Template) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    layered = sorted(name for name, f in functions.items() if f["Properties"].get("Layers"))
    assert [name.rstrip("0123456789ABCDEF") for name in layered] == ["Studio", "Sweep"]
    writes = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(str(action).startswith("cloudfront-keyvaluestore:") for action in _listed(statement["Action"]))
    ]
    assert len(writes) == 2 and all("Fn::GetAtt" in json.dumps(w["Resource"]) for w in writes)


def _listed(actions: object) -> list[object]:
    return actions if isinstance(actions, list) else [actions]


def test_the_edge_function_writes_the_viewers_address_over_whatever_the_client_sent(tmp_path: Path) -> None:
    from devtools.local_edge import EdgeFunction

    function = EdgeFunction(tmp_path / "store.json")
    try:
        event = {
            "context": {"eventType": "viewer-request", "requestId": "r"},
            "viewer": {"ip": "203.0.113.9"},
            "request": {
                "method": "GET",
                "uri": "/api/drops",
                "querystring": {},
                "headers": {VIEWER_IP_HEADER: {"value": "10.0.0.1"}, "host": {"value": "shop.example"}},
                "cookies": {},
            },
        }
        headers = function.run(event)["headers"]
    finally:
        function.close()
    assert headers[VIEWER_IP_HEADER] == {"value": "203.0.113.9"} and headers["host"] == {"value": "shop.example"}
