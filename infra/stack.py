"""One stage of dropfront on AWS: the table, the three functions from the Chalice package, the shopper
API behind CloudFront and WAF, the studio behind Cognito, the media bucket, keys, alarms and a
dashboard.

The functions and the REST API are built from ``chalice package`` output (``devtools.package``):
its zip, with precompiled bytecode, is the code of every function, and its Swagger, with each
integration pointed at the API function, defines the REST API. So Chalice decides the routes, and
this stack decides everything around them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from aws_cdk import (
    Annotations,
    CfnOutput,
    Duration,
    Fn,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_wafv2 as wafv2
from cdk_nag import NagSuppressions
from constructs import Construct

from chalicelib.store import schema
from chalicelib.telemetry import FUNNEL_METRICS
from chalicelib.web.request import MAX_TILL_BODY_BYTES
from chalicelib.web.responses import BASE_HEADERS, JSON_CSP, PRIVATE
from infra import access
from infra.edge_rules import CACHED, MAX_TTL_SECONDS, ORIGIN_HEADERS, VIEWER_IP_HEADER, Behaviour, function_code
from infra.stages import Stage

RUNTIME = lambda_.Runtime.PYTHON_3_13  # the Python the package's bytecode is compiled for (SnapStart)
NAMESPACE = "dropfront"
API_STAGE = "api"
VIEWER_HEADERS = (
    "CloudFront-Viewer-Country",
    "CloudFront-Viewer-City",
    "CloudFront-Viewer-Latitude",
    "CloudFront-Viewer-Longitude",
    "CloudFront-Viewer-Time-Zone",
    "Accept-Language",
)
RATE_LIMITED_PATHS = ("/api/pickups", "/api/holds", "/reserve", "/api/tryons", "/api/staff/", "/api/pos/")
ORIGIN_CHECK_HEADER = "x-dropfront-origin"  # what CloudFront adds toward the API, and WAF asks for
MAX_BODY_BYTES = MAX_TILL_BODY_BYTES  # the largest body the app takes (a till batch)
ROLES = ("editor", "publisher", "staff")
CACHEABLE_ERRORS = (400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504)  # CloudFront keeps these 10 s by default
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable, stale-if-error=604800"
ACCEPTED_FINDINGS = {
    "AwsSolutions-IAM5": (
        "Each function's DynamoDB actions name the table and its one index; IAM writes an index as "
        "table/<name>/index/gsi1. No action is a wildcard. The other patterns: the studio's schedules "
        "in the launches group (schedule/<group>/*), and Application Auto Scaling's scheduled actions and "
        "Scheduler's ListSchedules, which take no resource ARN."
    ),
    "AwsSolutions-IAM4": (
        "API Gateway's account-level CloudWatch role uses AWS's managed "
        "AmazonAPIGatewayPushToCloudWatchLogs policy, the documented way for a REST API to log."
    ),
    "AwsSolutions-SMG4": (
        "Signing keys rotate by appending a key (tokens accept a list) and dropping the oldest after "
        "the longest token lifetime (docs/deploy.md). A rotation Lambda would drop keys live tokens need."
    ),
    "AwsSolutions-APIG2": (
        "Chalice validates every request with pydantic in the function and answers 400/422 in the "
        "error envelope; API Gateway's validator would answer in another format."
    ),
    "AwsSolutions-APIG4": (
        "The shopper API is public by design (shoppers do not sign in); staff and till routes check "
        "signed till tokens in the function, and WAF rate-limits them."
    ),
    "AwsSolutions-COG4": (
        "The shopper API has no Cognito users; the studio, which has, verifies Cognito JWTs itself "
        "behind its function URL."
    ),
    "AwsSolutions-CFR1": "Drops sell in several countries; geo restriction would turn away markets a drop names.",
    "AwsSolutions-CFR2": (
        "WAF is on the API stage (REGIONAL), which every request to the origin passes, so its rules "
        "also guard requests that bypass CloudFront."
    ),
    "AwsSolutions-CFR4": (
        "The default CloudFront certificate (*.cloudfront.net) serves until a brand's domain and its "
        "ACM certificate are attached; then the minimum protocol becomes TLSv1.2_2021 (docs/deploy.md)."
    ),
    "AwsSolutions-S1": "The access-log bucket itself: logging it into itself would loop.",
    "AwsSolutions-SNS2": "Alarm notifications carry no customer data; AWS-managed encryption at rest is enough.",
    "AwsSolutions-L1": (
        "Python 3.13 is the runtime the package's bytecode is compiled for (SnapStart needs 3.12 or later) "
        "and the one every test and benchmark runs on; moving runtime is a measured change of its own."
    ),
}
"""cdk-nag findings this design accepts, each with its reason (cdk-nag prints them with the stack)."""


class DropfrontStack(Stack):
    def __init__(self, scope: Construct, stage: Stage, package_dir: Path, **kwargs: Any) -> None:
        super().__init__(scope, f"dropfront-{stage.name}", **kwargs)
        self.stage = stage
        sam = json.loads((package_dir / "sam.json").read_text(encoding="utf-8"))
        code = lambda_.Code.from_asset(str(package_dir / "deployment.zip"))

        self.table = self._table()
        self.keys = secretsmanager.Secret(
            self,
            "SigningKeys",
            description="dropfront signing keys, comma-separated, oldest to newest (the newest signs)",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
        )
        self.origin_secret = secretsmanager.Secret(
            self,
            "OriginSecret",
            description="what CloudFront adds to each request to the API, so WAF refuses any that skip it",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=48, exclude_punctuation=True),
        )
        # What the edge function reads: the keys it verifies segment cookies with (the sweep copies them
        # from the signing keys' secret) and each drop's experiments and pop-ups (the sweep, the studio).
        self.edge_store = cloudfront.KeyValueStore(self, "EdgeStore", comment="dropfront edge: segment keys, drops")
        edge_writer = self._edge_writer_layer(package_dir)
        environment = {
            "DROPFRONT_STAGE": stage.name,
            "DROPFRONT_EDGE_STORE_ARN": self.edge_store.key_value_store_arn,
            "DROPFRONT_TABLE": self.table.ref,
            "DROPFRONT_SECRET_KEYS_SECRET": self.keys.secret_arn,
            "POWERTOOLS_SERVICE_NAME": NAMESPACE,
            "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "PYDANTIC_DISABLE_PLUGINS": "__all__",
        }
        self.api_function = self._function(
            "Api", "app.app", code, stage.api_memory_mb, access.SHOPPER, environment, snap_start=True
        )
        # Every deploy publishes a version (SnapStart snapshots it) and points the alias at it. SnapStart
        # and provisioned concurrency cannot share a version, so a drop's launch is served by a twin
        # without SnapStart whose provisioned concurrency the studio schedules (chalicelib.warming);
        # API Gateway invokes whichever alias the stage's ``shopper`` variable names.
        self.api_alias = lambda_.Alias(self, "ApiLive", alias_name="live", version=self.api_function.current_version)
        self.launch_function = self._function(
            "ApiLaunch", "app.app", code, stage.api_memory_mb, access.SHOPPER, environment
        )
        self.launch_alias = lambda_.Alias(
            self, "ApiLaunchLive", alias_name="live", version=self.launch_function.current_version
        )
        self.warm_resource_id = f"function:{self.launch_function.function_name}:{self.launch_alias.alias_name}"
        self.warm_target = appscaling.ScalableTarget(
            self,
            "LaunchWarmUp",
            service_namespace=appscaling.ServiceNamespace.LAMBDA,
            resource_id=self.warm_resource_id,
            scalable_dimension="lambda:function:ProvisionedConcurrency",
            min_capacity=0,  # none between drops; the studio's scheduled actions raise it for a launch
            max_capacity=stage.max_warm_instances,
        )
        self.warm_target.node.add_dependency(self.launch_alias)
        self.sweep = self._function("Sweep", "app.minute_sweep", code, stage.sweep_memory_mb, access.SWEEP, environment)
        self._writes_edge_store(self.sweep, edge_writer)
        events.Rule(
            self,
            "EveryMinute",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[targets.LambdaFunction(self.sweep)],
        )
        self.api = self._rest_api(sam)
        self.media = self._media_bucket()
        self.distribution = self._distribution()
        self.pool, self.client = self._user_pool()
        studio_environment = {
            **environment,
            "DROPFRONT_MEDIA_BUCKET": self.media.bucket_name,
            "DROPFRONT_COGNITO_ISSUER": self.pool.user_pool_provider_url,
            "DROPFRONT_COGNITO_CLIENT_ID": self.client.user_pool_client_id,
            "DROPFRONT_PUBLIC_URL": f"https://{self.distribution.distribution_domain_name}",
            # The studio is its own origin (a Function URL): its previews load the shop's media from CloudFront.
            "DROPFRONT_MEDIA_URL": f"https://{self.distribution.distribution_domain_name}/media",
            "DROPFRONT_LAUNCH_ROUTE": self._launch_route(),
            # Where the studio finds a pricing decision to replay: the shopper functions' request logs.
            "DROPFRONT_DECISION_LOG_GROUPS": ",".join(group.log_group_name for group in self._shopper_logs()),
        }
        self.studio = self._function(
            "Studio", "app.studio", code, stage.studio_memory_mb, access.STUDIO, studio_environment
        )
        self.studio_url = self.studio.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        self._writes_edge_store(self.studio, edge_writer)
        for statement in self._launch_grants():  # the launch windows of the drops it edits
            self.studio.add_to_role_policy(statement)
        self.studio.add_to_role_policy(  # searching the shop's request logs for a decision, nothing more
            iam.PolicyStatement(
                actions=["logs:FilterLogEvents"], resources=[group.log_group_arn for group in self._shopper_logs()]
            )
        )
        self.studio.add_to_role_policy(  # product pictures, and nothing else in the bucket
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[self.media.arn_for_objects("products/*")])
        )
        # CloudFront's log files, as they land: a landing page's first views join the experiments'
        # samples (a page kept for a segment knows no visitor; the request id gives the edge's id).
        self.edge_logs = self._function("EdgeLogs", "app.edge_logs", code, 256, access.EDGE_LOGS, environment)
        self.edge_logs.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[self.access_logs.arn_for_objects("cloudfront/*")])
        )
        self.access_logs.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(self.edge_logs),
            s3.NotificationKeyFilter(prefix="cloudfront/"),
        )
        self.mail_identity = self._mail_identity()
        self.web_acl = self._web_acl()
        self.alarms = self._alarms()
        self.dashboard = self._dashboard()
        CfnOutput(self, "ShopUrl", value=f"https://{self.distribution.distribution_domain_name}")
        CfnOutput(self, "StudioUrl", value=self.studio_url.url)
        CfnOutput(self, "TableName", value=self.table.ref)
        CfnOutput(self, "SigningKeysSecret", value=self.keys.secret_arn)
        CfnOutput(self, "SweepFunction", value=self.sweep.function_name)
        CfnOutput(self, "UserPoolId", value=self.pool.user_pool_id)
        self._justify_findings()

    # --- data ---------------------------------------------------------------------------------------

    def _table(self) -> dynamodb.CfnTable:
        """The one table, from the same definition the code and the tests create it with."""
        definition = schema.table_definition(f"dropfront-{self.stage.name}")
        table = dynamodb.CfnTable(
            self,
            "Table",
            table_name=definition["TableName"],
            billing_mode=definition["BillingMode"],
            attribute_definitions=[
                dynamodb.CfnTable.AttributeDefinitionProperty(
                    attribute_name=a["AttributeName"], attribute_type=a["AttributeType"]
                )
                for a in definition["AttributeDefinitions"]
            ],
            key_schema=[_key(k) for k in definition["KeySchema"]],
            global_secondary_indexes=[
                dynamodb.CfnTable.GlobalSecondaryIndexProperty(
                    index_name=index["IndexName"],
                    key_schema=[_key(k) for k in index["KeySchema"]],
                    projection=dynamodb.CfnTable.ProjectionProperty(
                        projection_type=index["Projection"]["ProjectionType"]
                    ),
                )
                for index in definition["GlobalSecondaryIndexes"]
            ],
            point_in_time_recovery_specification=dynamodb.CfnTable.PointInTimeRecoverySpecificationProperty(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_specification=dynamodb.CfnTable.TimeToLiveSpecificationProperty(
                attribute_name=schema.TTL_ATTRIBUTE, enabled=True
            ),
            sse_specification=dynamodb.CfnTable.SSESpecificationProperty(sse_enabled=True),
            deletion_protection_enabled=self.stage.deletion_protection,
        )
        table.apply_removal_policy(RemovalPolicy.RETAIN if self.stage.deletion_protection else RemovalPolicy.DESTROY)
        return table

    def _mail_identity(self) -> ses.EmailIdentity:
        """The outbox's sender domain as an SES identity. Only the sweep sends, and only from it: the
        grant is SendEmail/SendRawEmail on this identity's ARN, nothing wider. The sweep's messages
        link to the shop, so it learns the shop's public URL."""
        domain = self.stage.mail_from.rpartition("@")[2].rstrip(">")
        identity = ses.EmailIdentity(self, "MailIdentity", identity=ses.Identity.domain(domain))
        identity.grant_send_email(self.sweep)
        self.sweep.add_environment("DROPFRONT_MAIL_FROM", self.stage.mail_from)
        self.sweep.add_environment("DROPFRONT_PUBLIC_URL", f"https://{self.distribution.distribution_domain_name}")
        return identity

    def _function(
        self,
        name: str,
        handler: str,
        code: lambda_.Code,
        memory_mb: int,
        actions: tuple[str, ...],
        environment: dict[str, str],
        *,
        snap_start: bool = False,
    ) -> lambda_.Function:
        """A function of the package with its own role: its DynamoDB actions on the table and its
        index, reading the signing keys, and its own log group; ``snap_start`` snapshots each
        published version after its init (``chalicelib.snapstart`` warms it and renews each copy)."""
        role = iam.Role(self, f"{name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        table_arn = self.table.attr_arn
        role.add_to_policy(
            iam.PolicyStatement(actions=list(actions), resources=[table_arn, f"{table_arn}/index/{schema.GSI1}"])
        )
        role.add_to_policy(iam.PolicyStatement(actions=list(access.SECRETS), resources=[self.keys.secret_arn]))
        log_group = logs.LogGroup(
            self,
            f"{name}Logs",
            retention=_retention(self.stage.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN if self.stage.deletion_protection else RemovalPolicy.DESTROY,
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        function = lambda_.Function(
            self,
            name,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,  # the package's compiled wheels (pydantic-core, cryptography)
            handler=handler,
            code=code,
            memory_size=memory_mb,
            timeout=Duration.seconds(10),
            role=role,
            environment=environment,
            log_group=log_group,
            tracing=lambda_.Tracing.PASS_THROUGH,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
        )
        if snap_start:  # every deploy publishes a version: the alias takes ``current_version``
            Annotations.of(function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish", "the live alias publishes each version"
            )
        return function

    def _edge_writer_layer(self, package_dir: Path) -> lambda_.LayerVersion:
        """awscrt, which boto3 needs to sign KeyValueStore writes (SigV4A): in a layer for the two
        functions that write, so the shopper function's package stays small."""
        return lambda_.LayerVersion(
            self,
            "EdgeWriter",
            code=lambda_.Code.from_asset(str(package_dir / "edge-writer-layer.zip")),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.X86_64],
            description="awscrt for SigV4A (CloudFront KeyValueStore writes)",
        )

    def _writes_edge_store(self, function: lambda_.Function, layer: lambda_.LayerVersion) -> None:
        function.add_layers(layer)
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(access.EDGE_STORE), resources=[self.edge_store.key_value_store_arn])
        )

    def _shopper_logs(self) -> list[logs.ILogGroup]:
        """The log groups of the functions that price views (the SnapStart one and its launch twin)."""
        return [function.log_group for function in (self.api_function, self.launch_function)]

    # --- the shopper's path: CloudFront → WAF → API Gateway → Lambda -----------------------------------

    @staticmethod
    def _gateway_responses() -> dict[str, Any]:
        """Answers API Gateway gives without calling the app (an unknown route is its 403 "missing
        authentication token", a wrong method 405, JSON sent as another type 415, its own throttling
        429) in the app's error envelope, with the headers every answer carries. In the API's own
        definition (``x-amazon-apigateway-gateway-responses``), so nothing else modifies it."""
        headers = {f"gatewayresponse.header.{name}": f"'{value}'" for name, value in BASE_HEADERS.items()}
        headers["gatewayresponse.header.Cache-Control"] = f"'{PRIVATE}'"
        headers["gatewayresponse.header.Content-Security-Policy"] = f"'{JSON_CSP}'"
        answers = {
            "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", "There is no such page."),
            "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported_media_type", None),
            "THROTTLED": (429, "too_many_requests", None),
            "DEFAULT_4XX": (None, "bad_request", None),
            "DEFAULT_5XX": (None, "unavailable", None),
        }
        responses: dict[str, Any] = {}
        for kind, (status, code, message) in answers.items():
            # API Gateway's messageString is already a quoted JSON string
            text = json.dumps(message) if message else "$context.error.messageString"
            envelope = json.dumps({"error": {"code": code, "message": "MESSAGE", "details": None}})
            responses[kind] = {
                "responseParameters": headers,
                "responseTemplates": {"application/json": envelope.replace('"MESSAGE"', text)},
                **({"statusCode": status} if status else {}),
            }
        return responses

    def _launch_route(self) -> str:
        """What the studio needs to warm a launch and route it (``chalicelib.warming.aws``), as JSON."""
        self.launch_schedules = scheduler.CfnScheduleGroup(
            self, "Launches", name=f"dropfront-{self.stage.name}-launches"
        )
        self.launch_switch_role = iam.Role(
            self, "LaunchSwitchRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com")
        )
        self.launch_switch_role.add_to_policy(  # point the API stage at one alias or the other, nothing else
            iam.PolicyStatement(
                actions=["apigateway:PATCH"],
                resources=[f"arn:aws:apigateway:{self.region}::/restapis/{self.api.rest_api_id}/stages/{API_STAGE}"],
            )
        )
        route = {
            "target": self.warm_resource_id,
            "rest_api_id": self.api.rest_api_id,
            "stage": API_STAGE,
            "everyday": f"{self.api_function.function_name}:{self.api_alias.alias_name}",
            "launch": f"{self.launch_function.function_name}:{self.launch_alias.alias_name}",
            "schedule_group": self.launch_schedules.ref,
            "scheduler_role_arn": self.launch_switch_role.role_arn,
        }
        return json.dumps(route)

    def _launch_grants(self) -> list[iam.PolicyStatement]:
        """The studio schedules each launch: the twin's provisioned concurrency (Application Auto
        Scaling names no resources for these) and the two switches, run as the switch role."""
        group = f"arn:aws:scheduler:{self.region}:{self.account}:schedule/{self.launch_schedules.ref}/*"
        return [
            iam.PolicyStatement(actions=list(access.WARM_UP), resources=["*"]),
            iam.PolicyStatement(actions=list(access.LAUNCH_SWITCH), resources=[group]),
            iam.PolicyStatement(actions=["scheduler:ListSchedules"], resources=["*"]),
            iam.PolicyStatement(actions=["iam:PassRole"], resources=[self.launch_switch_role.role_arn]),
        ]

    def _rest_api(self, sam: dict[str, Any]) -> apigateway.SpecRestApi:
        """The REST API Chalice described, each integration pointed at the function alias its stage's
        ``shopper`` variable names: the SnapStart function, or its twin during a launch."""
        swagger = copy.deepcopy(sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"])
        uri = Fn.sub(
            "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
            "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${!stageVariables.shopper}/invocations"
        )
        for operations in swagger["paths"].values():
            for operation in operations.values():
                integration = operation.get("x-amazon-apigateway-integration")
                if integration is not None:
                    integration["uri"] = uri
        swagger["x-amazon-apigateway-gateway-responses"] = self._gateway_responses()
        access_logs = logs.LogGroup(self, "ApiAccessLogs", retention=_retention(self.stage.log_retention_days))
        api = apigateway.SpecRestApi(
            self,
            "ShopperApi",
            api_definition=apigateway.ApiDefinition.from_inline(swagger),
            endpoint_types=[apigateway.EndpointType.REGIONAL],  # CloudFront is the edge
            deploy_options=apigateway.StageOptions(
                stage_name=API_STAGE,
                variables={"shopper": f"{self.api_function.function_name}:{self.api_alias.alias_name}"},
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                metrics_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                throttling_rate_limit=2000,
                throttling_burst_limit=1000,
            ),
            cloud_watch_role=True,
        )
        for alias in (self.api_alias, self.launch_alias):
            alias.add_permission(
                "InvokedByApi",
                principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                source_arn=api.arn_for_execute_api(),
            )
        return api

    def _media_bucket(self) -> s3.Bucket:
        logs_bucket = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,  # CloudFront standard logs need ACLs
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(self.stage.log_retention_days))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.access_logs = logs_bucket
        return s3.Bucket(
            self,
            "Media",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix="media/",
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _distribution(self) -> cloudfront.Distribution:
        """The API and personal pages pass through uncached with the viewer's country, city, position,
        time zone and language; a drop's landing page is kept a second per locale, market, zone and
        segment key (``infra/edge_rules.py``), when the origin says it may be; media is cached for a
        year and may be served stale if its origin errs. One function on every shop request and
        response (``infra/edge/storefront.js``)."""
        viewer = cloudfront.OriginRequestPolicy(
            self,
            "ViewerContext",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(*VIEWER_HEADERS, *ORIGIN_HEADERS),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.all(),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.all(),
        )
        media_headers = cloudfront.ResponseHeadersPolicy(
            self,
            "MediaHeaders",
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(header="Cache-Control", value=MEDIA_CACHE_CONTROL, override=True)
                ]
            ),
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
                ),
            ),
            # Public files, readable from any origin: the studio's preview is a sandboxed (opaque
            # origin) frame, and a video's captions track loads only with CORS there.
            cors_behavior=cloudfront.ResponseHeadersCorsBehavior(
                access_control_allow_origins=["*"],
                access_control_allow_methods=["GET", "HEAD"],
                access_control_allow_headers=["*"],
                access_control_allow_credentials=False,
                origin_override=True,
            ),
        )
        storefront = cloudfront.Function(
            self,
            "Storefront",
            code=cloudfront.FunctionCode.from_inline(function_code()),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            key_value_store=self.edge_store,
            comment="viewer address, segment key, visitor id (infra/edge/storefront.js)",
        )
        functions = [
            cloudfront.FunctionAssociation(function=storefront, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST),
            cloudfront.FunctionAssociation(
                function=storefront, event_type=cloudfront.FunctionEventType.VIEWER_RESPONSE
            ),
        ]
        api = origins.RestApiOrigin(
            self.api, custom_headers={ORIGIN_CHECK_HEADER: self.origin_secret.secret_value.unsafe_unwrap()}
        )
        cached = {
            behaviour.path: cloudfront.BehaviorOptions(
                origin=api,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=self._cache_policy(behaviour),
                origin_request_policy=self._forwarded_besides(behaviour),
                function_associations=functions,
                compress=True,
            )
            for behaviour in CACHED
        }
        return cloudfront.Distribution(
            self,
            "Edge",
            default_behavior=cloudfront.BehaviorOptions(
                origin=api,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=viewer,
                function_associations=functions,
            ),
            additional_behaviors={
                **cached,
                "/media/*": cloudfront.BehaviorOptions(
                    origin=origins.S3BucketOrigin.with_origin_access_control(self.media),
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                    cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                    response_headers_policy=media_headers,
                    compress=True,
                ),
            },
            # An error is never kept: a page that failed for one viewer is asked for again by the next.
            error_responses=[
                cloudfront.ErrorResponse(http_status=status, ttl=Duration.seconds(0)) for status in CACHEABLE_ERRORS
            ],
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self.access_logs,
            log_includes_cookies=True,  # a first view is a landing-page request without the visitor cookies
            log_file_prefix="cloudfront/",
        )

    def _cache_policy(self, behaviour: Behaviour) -> cloudfront.CachePolicy:
        """Kept a second at most, by the behaviour's key, and only what the origin says may be kept."""
        return cloudfront.CachePolicy(
            self,
            f"{behaviour.name}Cache",
            comment=f"{behaviour.path}: a second at most, by the key infra/edge_rules.py names",
            default_ttl=Duration.seconds(0),  # an answer without s-maxage or max-age is not kept
            min_ttl=Duration.seconds(0),
            max_ttl=Duration.seconds(MAX_TTL_SECONDS),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list(*behaviour.headers)
            if behaviour.headers
            else cloudfront.CacheHeaderBehavior.none(),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.allow_list(*behaviour.query)
            if behaviour.query
            else cloudfront.CacheQueryStringBehavior.none(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )

    def _forwarded_besides(self, behaviour: Behaviour) -> cloudfront.OriginRequestPolicy:
        """What the origin gets on a miss beyond the cache key: the viewer's other headers, the
        function's, every cookie (a per-visitor answer needs them) and the whole query."""
        keyed = {name.lower() for name in behaviour.headers}
        return cloudfront.OriginRequestPolicy(
            self,
            f"{behaviour.name}ViewerContext",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(
                *(h for h in (*VIEWER_HEADERS, *ORIGIN_HEADERS) if h.lower() not in keyed)
            ),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.all(),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.all(),
        )

    def _web_acl(self) -> wafv2.CfnWebACL:
        """On the API stage: requests that did not come through CloudFront are refused (they lack the
        origin secret CloudFront adds, so nobody can call the stage with made-up viewer geography),
        a per-client rate limit on the booking, hold, try-on and till routes (the client is the
        address the edge function wrote, never a header the client sets), a body size limit, and
        AWS's common rule set."""
        from_cloudfront = wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(single_header={"Name": ORIGIN_CHECK_HEADER}),
                positional_constraint="EXACTLY",
                search_string=self.origin_secret.secret_value.unsafe_unwrap(),
                text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
            )
        )
        not_from_cloudfront = wafv2.CfnWebACL.StatementProperty(
            not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=from_cloudfront)
        )
        body_too_large = wafv2.CfnWebACL.StatementProperty(
            size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(body={"OversizeHandling": "MATCH"}),
                comparison_operator="GT",
                size=MAX_BODY_BYTES,
                text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
            )
        )
        too_fast = wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                limit=self.stage.booking_rate_per_5_min,
                evaluation_window_sec=300,
                aggregate_key_type="FORWARDED_IP",
                forwarded_ip_config=wafv2.CfnWebACL.ForwardedIPConfigurationProperty(
                    header_name=VIEWER_IP_HEADER, fallback_behavior="MATCH"
                ),
                scope_down_statement=wafv2.CfnWebACL.StatementProperty(
                    or_statement=wafv2.CfnWebACL.OrStatementProperty(
                        statements=[_path_has(path) for path in RATE_LIMITED_PATHS]
                    )
                ),
            )
        )
        common = wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name="AWSManagedRulesCommonRuleSet",
                excluded_rules=[wafv2.CfnWebACL.ExcludedRuleProperty(name="SizeRestrictions_BODY")],
            )
        )
        rules = [
            _rule("OnlyThroughCloudFront", 0, not_from_cloudfront, block=True),
            _rule("BodyTooLarge", 1, body_too_large, block=True),
            _rule("BookingTryOnTillRate", 2, too_fast, block=True),
            _rule("AwsCommonRules", 3, common, block=False),
        ]
        acl = wafv2.CfnWebACL(
            self,
            "ApiFirewall",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules,
            visibility_config=_visibility("dropfront-api"),
        )
        wafv2.CfnWebACLAssociation(
            self, "ApiFirewallOnStage", resource_arn=self.api.deployment_stage.stage_arn, web_acl_arn=acl.attr_arn
        )
        return acl

    # --- the studio's sign-in -------------------------------------------------------------------------

    def _user_pool(self) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        pool = cognito.UserPool(
            self,
            "StudioUsers",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_digits=True, require_lowercase=True, require_uppercase=True, require_symbols=True
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            removal_policy=RemovalPolicy.RETAIN if self.stage.deletion_protection else RemovalPolicy.DESTROY,
            deletion_protection=self.stage.deletion_protection,
        )
        for role in ROLES:
            cognito.CfnUserPoolGroup(self, f"Group{role.title()}", user_pool_id=pool.user_pool_id, group_name=role)
        client = pool.add_client(
            "Studio",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            prevent_user_existence_errors=True,
        )
        return pool, client

    # --- watching it -----------------------------------------------------------------------------------

    def _alarms(self) -> list[cloudwatch.Alarm]:
        topic = sns.Topic(self, "Alarms", enforce_ssl=True)
        five_minutes = Duration.minutes(5)

        def emf(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name=name,
                statistic="Sum",
                period=five_minutes,
                dimensions_map={"service": NAMESPACE},
            )

        watched = [
            ("Api5xx", self.api.metric_server_error(period=five_minutes, statistic="Sum"), 5, "any 5xx is a bug"),
            (
                "ApiP99",
                self.api.metric_latency(period=five_minutes, statistic="p99"),
                self.stage.p99_latency_alarm_ms,
                "p99 latency, ms",
            ),
            *(
                (
                    f"{fn.node.id}Throttles",
                    fn.metric_throttles(period=five_minutes, statistic="Sum"),
                    1,
                    "throttled invocations",
                )
                for fn in (self.api_function, self.launch_function, self.sweep)
            ),
            (
                "GuardrailFailClosed",
                emf("GuardrailFailClosed"),
                1,
                "offers fell back to list price: the policy was unreadable",
            ),
            ("TemplateFallback", emf("TemplateFallback"), 1, "a published template failed; an older one served"),
            (
                "DynamoDBContention",
                emf("DynamoDBContention"),
                50,
                "writes met a hot item (transaction conflicts, throttles) 50 times in 5 minutes: shoppers got 503s",
            ),
            (
                "TemplateBreakerOpen",
                emf("TemplateBreakerOpen"),
                1,
                "a published template broke its render budget at view time and is skipped for a while",
            ),
            (
                "MessageFailed",
                emf("MessageFailed"),
                1,
                "an outbox message was refused for good or ran out of attempts: shoppers were not told",
            ),
        ]
        alarms = []
        for name, metric, threshold, why in watched:
            alarm = cloudwatch.Alarm(
                self,
                name,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=why,
            )
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
            alarms.append(alarm)
        return alarms

    def _dashboard(self) -> cloudwatch.Dashboard:
        """The drop's numbers from the EMF metrics the app emits (by drop, summed here)."""
        hour = Duration.hours(1)

        def by_drop(name: str) -> cloudwatch.MathExpression:
            return cloudwatch.MathExpression(
                expression=f"SUM(SEARCH('{{{NAMESPACE},service,drop,page}} MetricName=\"{name}\"', 'Sum', 3600))"
                if name == "PageView"
                else f"SUM(SEARCH('{{{NAMESPACE},service,drop,popup}} MetricName=\"{name}\"', 'Sum', 3600))",
                label=name,
                period=hour,
            )

        def by_cell(name: str, expression: str) -> cloudwatch.MathExpression:
            """The offers' metrics carry the cell's dimension (``telemetry.offers_shown``): a metric
            without it would be another metric, and empty."""
            search = f"'{{{NAMESPACE},service,cell}} MetricName=\"{name}\"'"
            return cloudwatch.MathExpression(expression=expression.format(search=search), label=name, period=hour)

        dashboard = cloudwatch.Dashboard(self, "Numbers", dashboard_name=f"dropfront-{self.stage.name}")
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Page views", left=[by_drop("PageView")], width=12),
            cloudwatch.GraphWidget(
                title="QR funnel", left=[by_drop(metric) for metric in FUNNEL_METRICS.values()], width=12
            ),
            cloudwatch.GraphWidget(
                title="Offers shown and discount depth by cell",
                left=[by_cell("OfferShown", "SUM(SEARCH({search}, 'Sum', 3600))")],
                right=[by_cell("DiscountDepthBps", "SEARCH({search}, 'Average', 3600)")],
                width=12,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=12),
        )
        return dashboard

    def _justify_findings(self) -> None:
        NagSuppressions.add_stack_suppressions(
            self, [{"id": rule, "reason": reason} for rule, reason in ACCEPTED_FINDINGS.items()]
        )


def _key(key: dict[str, str]) -> dynamodb.CfnTable.KeySchemaProperty:
    return dynamodb.CfnTable.KeySchemaProperty(attribute_name=key["AttributeName"], key_type=key["KeyType"])


def _retention(days: int) -> logs.RetentionDays:
    return {14: logs.RetentionDays.TWO_WEEKS, 90: logs.RetentionDays.THREE_MONTHS}[days]


def _rule(
    name: str, priority: int, statement: wafv2.CfnWebACL.StatementProperty, *, block: bool
) -> wafv2.CfnWebACL.RuleProperty:
    """A rule that blocks what matches, or (``block=False``) a managed group that keeps its own actions."""
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        statement=statement,
        visibility_config=_visibility(name),
        action=wafv2.CfnWebACL.RuleActionProperty(block={}) if block else None,
        override_action=None if block else wafv2.CfnWebACL.OverrideActionProperty(none={}),
    )


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _path_has(prefix: str) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint="CONTAINS",  # whether WAF's path carries the stage name or not
            search_string=prefix,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )
