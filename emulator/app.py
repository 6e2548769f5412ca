"""Wire the emulator's layers together from one CloudFormation template.

Nothing here knows the chat: every function, function URL, rule, table and authorizer
comes from the template (any number of each), and how they share one HTTP port from
its Metadata or the command line (emulator.serving).
With IAM on (the default), functions, rule actions and event source mappings act as
their roles, and the template's Lambda permissions are checked (emulator.aws.iam).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator.aws import AwsServices
from emulator.aws.iam import (
    IOT,
    LAMBDA,
    AccessDenied,
    Caller,
    EmulatorIam,
    IamActionTarget,
    RoleNotAssumable,
    data_plane_iam,
)
from emulator.aws.iam import report as iam_report
from emulator.aws.iam.function_url import iam_url_allowed
from emulator.aws.provision import uses_aws_managed_policies
from emulator.http import create_app, function_url
from emulator.http.cors import CorsConfig
from emulator.http.function_url import FunctionUrlRoute
from emulator.iot import IotBroker, PublishMetadata
from emulator.iot.auth import Authorizers, CustomAuthorizer
from emulator.iot.limits import Limits
from emulator.iot.policy import IotArns
from emulator.kinesis import EventSourceMappings, mappings_from_template
from emulator.lambda_runtime import FunctionConfig, LambdaRuntime, functions_from_template
from emulator.lambda_runtime.event_invoke import EventInvoker, event_invoke_configs
from emulator.lambda_runtime.layers import check_layers
from emulator.lambda_runtime.throttle import Throttle, Throttled, reserved_concurrency
from emulator.rules import (
    ActionTarget,
    BotoClients,
    CallbackTarget,
    MessageContext,
    RulesEngine,
    TopicRule,
)
from emulator.rules.callouts import RuleCallouts
from emulator.serving import ServingOptions, plan
from emulator.state import LocalState
from emulator.template import Resource, Template, TemplateError, load_template

log = logging.getLogger("emulator")

ROOT = Path(__file__).resolve().parents[1]
STOP_DRAIN_S = 10.0  # how long a stop waits for asynchronous invocations to finish
URL = "AWS::Lambda::Url"


@dataclass(frozen=True)
class Settings:
    """What a user can choose on the command line."""

    template_path: Path
    host: str = "127.0.0.1"
    port: int = 8080
    mqtt_port: int = 1883
    aws_port: int = 0
    stack_name: str = "local"
    region: str = "us-east-1"
    account_id: str = "123456789012"
    parameters: dict[str, str] = field(default_factory=dict)
    serving: ServingOptions = field(default_factory=ServingOptions)
    code: dict[str, Path] = field(default_factory=dict)  # s3://bucket/key -> folder or zip
    iam: bool = True  # evaluate every role's permissions, as AWS does
    state_dir: Path | None = None  # where tables, secrets and the stream are kept
    fresh: bool = False  # forget what state_dir holds


# A function URL refused by its resource-based policy, as Lambda answers it.
FORBIDDEN: dict[str, Any] = {
    "statusCode": 403,
    "headers": {"Content-Type": "application/json"},
    "body": '{"Message":"Forbidden"}',
}


def default_authorizer(template: Template) -> tuple[str | None, bool]:
    """The default custom authorizer of the template's data endpoint, and whether a client
    may name another ("AuthorizerConfig",
    https://docs.aws.amazon.com/iot/latest/apireference/API_AuthorizerConfig.html).

    The emulator has one endpoint: the first enabled domain configuration with an
    AuthorizerConfig gives it; a second one that disagrees is an error.
    """
    found: list[tuple[str, bool]] = []
    for domain in template.resources(type="AWS::IoT::DomainConfiguration"):
        props = domain.properties
        config = props.get("AuthorizerConfig") or {}
        if props.get("DomainConfigurationStatus", "ENABLED") == "DISABLED" or not config:
            continue
        name = config.get("DefaultAuthorizerName")
        if name:
            override = config.get("AllowAuthorizerOverride", False)
            found.append((str(name), override is True or str(override).lower() == "true"))
    if len(set(found)) > 1:
        raise TemplateError(
            f"domain configurations disagree on the default authorizer: {sorted(set(found))}; "
            "the emulator serves one endpoint"
        )
    return found[0] if found else (None, False)


def _check_function_roles(iam: EmulatorIam, functions: list[FunctionConfig]) -> None:
    """Every function's role must exist and trust Lambda, or CreateFunction would fail."""
    for function in functions:
        try:
            iam.issuer.check(function.role_arn, LAMBDA)
        except RoleNotAssumable as exc:
            raise TemplateError(
                f"{function.logical_id}: {exc} (CloudFormation's CreateFunction fails the same way)"
            ) from None


def _check_action_roles(iam: EmulatorIam, engine: RulesEngine) -> None:
    """A rule action whose role IoT cannot assume fails each time it runs: say so now."""
    for rule in engine.compiled:
        for action in (*rule.actions, rule.error_action):
            if action is None or action.role_arn is None:
                continue
            try:
                iam.issuer.check(action.role_arn, IOT)
            except RoleNotAssumable as exc:
                log.warning("rule %s: %s; the action will fail", rule.name, exc)


def _rules_context(ctx: PublishMetadata | None) -> MessageContext | None:
    """The broker's view of a publish, as the SQL functions read it."""
    if ctx is None:
        return None
    return MessageContext(
        client_id=ctx.client_id,
        principal=ctx.principal,
        source_ip=ctx.source_ip,
        timestamp_ms=ctx.timestamp_ms,
        trace_id=ctx.trace_id,
    )


class Emulator:
    """IoT Core, Lambda, and moto-backed AWS APIs for one template, on loopback."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.template = load_template(
            settings.template_path,
            parameters=settings.parameters,
            stack_name=settings.stack_name,
            region=settings.region,
            account_id=settings.account_id,
        )
        self.serving = plan(self.template, settings.serving)
        self._scratch = tempfile.TemporaryDirectory(prefix="emulator-code-")
        self.aws: AwsServices | None = None
        self.runtime: LambdaRuntime | None = None
        self.engine: RulesEngine | None = None
        self.broker: IotBroker | None = None
        self.iam: EmulatorIam | None = None
        self.mappings: list[EventSourceMappings] = []
        self.events: EventInvoker | None = None
        self.state: LocalState | None = None
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    @property
    def function_env(self) -> dict[str, str]:
        """What the functions' workers get besides the template's environment: moto's
        endpoints and credentials, and this emulator as the IoT data plane."""
        assert self.aws is not None, "start() first"
        return {**self.aws.env(), "AWS_ENDPOINT_URL_IOT_DATA_PLANE": self.base_url}

    def throttle(self, function_arn: str) -> Throttle:
        """The reserved concurrency the template gives a function, for synchronous calls."""
        function = self.template.find(function_arn, "AWS::Lambda::Function")
        reserved = function.properties.get("ReservedConcurrentExecutions") if function else None
        return Throttle(reserved_concurrency(reserved))

    async def start(self) -> None:
        """Bring every layer up; on failure, take down what had started."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        s = self.settings
        enforced = "enforced" if s.iam else "not enforced (--no-iam)"
        how = {"AWS::IAM::Role": f"moto IAM, {enforced}", "AWS::Lambda::Permission": enforced}
        log.info(
            "template %s, stack %r:\n%s", s.template_path, s.stack_name, self.template.report(how)
        )
        for layer in check_layers(self.template, ROOT):
            users = ", ".join(layer.functions)
            line = f"layer {layer.layer} ({users}): provided by {layer.provided_by}"
            if layer.problem:
                log.warning("%s; %s", line, layer.problem)
            else:
                log.info("%s", line)

        log.info(
            "starting moto (DynamoDB, Kinesis, Secrets Manager, SQS, SNS, Logs, CloudWatch, "
            "S3, STS, IAM)"
        )
        self.aws = await asyncio.to_thread(
            AwsServices(
                region=s.region,
                account_id=s.account_id,
                host=s.host,
                port=s.aws_port,
                iam=s.iam,
                aws_managed_policies=uses_aws_managed_policies(self.template),
            ).start
        )
        provisioned = await asyncio.to_thread(self.aws.provision, self.template)
        for type_, names in provisioned.created.items():
            log.info("created %s: %s", type_, ", ".join(names))
        if s.state_dir is not None:
            self.state = LocalState(s.state_dir, self.template, self.aws.client)
            if s.fresh:
                self.state.clear()
            restored = await asyncio.to_thread(self.state.restore)
            log.info("state from %s: %s", s.state_dir, restored)

        functions = functions_from_template(
            self.template, ROOT, code=s.code, scratch=Path(self._scratch.name)
        )
        iam = self.iam = EmulatorIam(self.aws, self.template) if s.iam else None
        if iam is not None:
            await asyncio.to_thread(_check_function_roles, iam, functions)
        roles = len(list(self.template.resources(type="AWS::IAM::Role")))
        log.info("%s", iam_report(iam is not None, roles))

        self.runtime = LambdaRuntime(
            functions, extra_env=self.function_env, credentials=self._function_credentials()
        )
        warming = asyncio.create_task(self.runtime.prewarm())

        runtime = self.runtime
        authorizers = self._authorizers()
        rules = [
            TopicRule(resource.physical_id, resource.properties["TopicRulePayload"])
            for resource in self.template.resources(type="AWS::IoT::TopicRule")
        ]
        self.broker = IotBroker(
            authorizers=authorizers,
            host=s.host,
            mqtt_port=s.mqtt_port,
            region=s.region,
            account_id=s.account_id,
        )
        broker = self.broker
        arns = IotArns(s.region, s.account_id)
        # Lambda sends an async invocation's failure record as the function's role.
        self.events = EventInvoker(
            runtime.invoke,
            lambda name: runtime.resolve(name).arn,
            event_invoke_configs(self.template),
            self._function_clients,
        )
        target: ActionTarget
        if iam is not None:
            target = IamActionTarget(broker.publish, self.events.invoke, iam, arns)
        else:
            target = CallbackTarget(
                publish=broker.publish,
                invoke=self.events.invoke,
                clients=BotoClients(self.aws.endpoint_url, s.region),
            )
        loop = asyncio.get_running_loop()
        self.engine = RulesEngine(
            rules,
            target,
            s.account_id,
            s.region,
            callouts=lambda rule_name: self.rule_callouts(rule_name, loop),
        )
        for warning in self.engine.warnings:
            log.warning("rules: %s", warning)
        engine = self.engine
        if iam is not None:
            await asyncio.to_thread(_check_action_roles, iam, engine)

        def on_publish(topic: str, payload: bytes, ctx: PublishMetadata | None) -> None:
            engine.dispatch(topic, payload, _rules_context(ctx))

        broker.on_publish = on_publish
        await broker.start()

        app = create_app(
            broker=broker,
            web_root=self.serving.site,
            function_urls=[self._function_url(url) for url in self.template.resources(type=URL)],
            site_config=self.serving.site_config,
        )
        if iam is not None:
            app.middlewares.append(data_plane_iam(iam, arns))
        # access_log off: the /mqtt URL carries the guest token in its query string.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, s.host, s.port).start()

        self.mappings = [
            EventSourceMappings([config], self._function_clients(config.function), runtime.invoke)
            for config in mappings_from_template(self.template)
        ]
        await asyncio.gather(*(m.start() for m in self.mappings))
        if self.state is not None:
            records = await asyncio.to_thread(self.state.restore_streams)
            log.info("state: %d stream records put back", records)
        await warming
        log.info(
            "MQTT: ws://%s:%d/mqtt and tcp://%s:%d; AWS APIs (moto): %s",
            s.host,
            s.port,
            s.host,
            broker.mqtt_port,
            self.aws.endpoint_url,
        )

    def _authorizers(self) -> Authorizers:
        """Every AWS::IoT::Authorizer, and the default one of a domain configuration."""
        assert self.runtime is not None
        runtime, iam, limits = self.runtime, self.iam, Limits()
        found = []
        for resource in self.template.resources(type="AWS::IoT::Authorizer"):
            props = resource.properties
            if props.get("Status", "ACTIVE") != "ACTIVE":
                log.info("authorizer %s is %s: not used", resource.logical_id, props["Status"])
                continue
            function_arn = str(props["AuthorizerFunctionArn"])
            # IoT invokes the authorizer as iot.amazonaws.com, on the authorizer's behalf.
            caller = Caller(IOT, source_arn=resource.arn, source_account=self.settings.account_id)
            throttle = self.throttle(function_arn)

            async def invoke(
                event: dict[str, Any],
                arn: str = function_arn,
                caller: Caller = caller,
                throttle: Throttle = throttle,
            ) -> Any:
                if iam is not None:
                    iam.check_invoke(runtime.resolve(arn).arn, "lambda:InvokeFunction", caller)
                # Throttled raises: IoT Core refuses the connection.
                return await throttle.run(lambda: runtime.invoke(arn, event))

            found.append(
                CustomAuthorizer(
                    str(props.get("AuthorizerName", resource.physical_id)),
                    invoke,
                    token_key_name=str(props.get("TokenKeyName", "token")),
                    min_ttl_s=limits.authorizer_min_ttl_s,
                    max_ttl_s=limits.authorizer_max_ttl_s,
                )
            )
        default, override = default_authorizer(self.template)
        names = [a.name for a in found]
        if default is not None and default not in names:
            raise TemplateError(
                f"DomainConfiguration DefaultAuthorizerName {default!r} is not an authorizer "
                f"of the template ({', '.join(names) or 'none'})"
            )
        log.info(
            "custom authorizers: %s; default: %s",
            ", ".join(names) or "none (every connection is refused)",
            f"{default} (override {'allowed' if override else 'not allowed'})"
            if default
            else "none (clients must name one)",
        )
        return Authorizers(found, default, override)

    def _function_url(self, url: Resource) -> FunctionUrlRoute:
        """One AWS::Lambda::Url at its mount path, behind its AuthType and permissions."""
        assert self.runtime is not None
        runtime, iam = self.runtime, self.iam
        target = str(url.properties["TargetFunctionArn"])
        auth_type = str(url.properties.get("AuthType", "NONE"))
        caller = Caller("*", url_auth_type=auth_type)
        throttle = self.throttle(target)
        path = self.serving.url_paths[url.logical_id]

        async def invoke(event: dict[str, Any], request: web.Request) -> Any:
            function = runtime.resolve(target).arn
            if auth_type == "AWS_IAM":
                if not await iam_url_allowed(iam, request, function):
                    return FORBIDDEN
            elif iam is not None:
                try:
                    iam.check_invoke(function, "lambda:InvokeFunctionUrl", caller)
                    iam.check_invoke(function, "lambda:InvokeFunction", caller)
                except AccessDenied:
                    return FORBIDDEN
            try:
                return await throttle.run(lambda: runtime.invoke(target, event))
            except Throttled:
                return function_url.THROTTLED

        log.info("function URL %s (AuthType %s): %s", url.logical_id, auth_type, path)
        return FunctionUrlRoute(
            url.logical_id, path, invoke, CorsConfig.from_properties(url.properties.get("Cors"))
        )

    def rule_callouts(self, rule_name: str, loop: asyncio.AbstractEventLoop) -> RuleCallouts:
        """What get_dynamodb(), get_secret() and aws_lambda() in the rule ``rule_name``
        reach: moto as the role each call names (with IAM on; as the emulator without), and
        the template's functions if their permissions let IoT invoke them for the rule
        (emulator.rules.callouts). ``loop`` is the one this emulator runs on."""
        aws, iam, runtime = self.aws, self.iam, self.runtime
        assert aws is not None and runtime is not None, "start() first"
        s = self.settings
        rule_arn = f"arn:aws:iot:{s.region}:{s.account_id}:rule/{rule_name}"
        caller = Caller(IOT, source_arn=rule_arn, source_account=s.account_id)

        def clients(role_arn: str) -> Any:
            return aws.client if iam is None else iam.client_factory(role_arn, IOT, rule_name)

        async def call_function(function_arn: str, event: Any) -> Any:
            if iam is not None:
                iam.check_invoke(runtime.resolve(function_arn).arn, "lambda:InvokeFunction", caller)
            return await runtime.invoke(function_arn, event)

        return RuleCallouts(clients, call_function, loop)

    def _function_credentials(self) -> Any:
        """The runtime's source of execution-role credentials (None without IAM)."""
        iam = self.iam
        if iam is None:
            return None

        async def credentials(function: FunctionConfig, min_remaining: float) -> Any:
            return await iam.credentials(function.role_arn, LAMBDA, function.name, min_remaining)

        return credentials

    def _function_clients(self, function: str) -> Any:
        """Clients Lambda uses on a function's behalf (event source mappings, failure
        records): the function's role with IAM on, the emulator's own without."""
        assert self.aws is not None and self.runtime is not None
        if self.iam is None:
            return self.aws.client
        config = self.runtime.resolve(function)
        return self.iam.client_factory(config.role_arn, LAMBDA, config.name)

    async def _save_state(self) -> None:
        if self.state is None or self.aws is None:
            return
        checkpoints = {
            mapping.config.stream_name: dict(mapping.checkpoints)
            for mappings in self.mappings
            for mapping in mappings.mappings
        }
        try:
            saved = await asyncio.to_thread(self.state.save, checkpoints)
        except Exception:
            log.exception("state not saved to %s", self.state.directory)
            return
        log.info("state saved to %s: %s", self.state.directory, saved)

    async def stop(self) -> None:
        """Stop accepting work first, then drain, then release processes and ports."""
        await asyncio.gather(*(m.close() for m in self.mappings))
        if self.broker is not None:
            await self.broker.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.engine is not None:
            await self.engine.close()
        if self.events is not None:
            # The lifecycle events of the connections just closed reach their function.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.events.drain(), STOP_DRAIN_S)
            await self.events.close()
        await self._save_state()
        if self.runtime is not None:
            await self.runtime.close()
        if self.aws is not None:
            await asyncio.to_thread(self.aws.stop)
        self.mappings = []
        self.broker = self._runner = self.engine = self.events = self.state = None
        self.runtime = self.aws = self.iam = None
        self._scratch.cleanup()
