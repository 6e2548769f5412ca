"""Wire the emulator's layers together from one CloudFormation template.

Nothing here knows the chat: every function, rule, table and the authorizer come from
the template, so a change to the stack/ package is all it takes to change what runs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator.aws import AwsServices
from emulator.http import create_app
from emulator.http.cors import CorsConfig
from emulator.iot import IotBroker
from emulator.iot import MessageContext as BrokerContext
from emulator.kinesis import EventSourceMappings, mappings_from_template
from emulator.lambda_runtime import LambdaRuntime, functions_from_template
from emulator.lambda_runtime.layers import check_layers
from emulator.rules import BotoClients, CallbackTarget, MessageContext, Rule, RulesEngine
from emulator.template import Resource, Template, TemplateError, load_template

log = logging.getLogger("emulator")

ROOT = Path(__file__).resolve().parents[1]


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
    web_root: Path = ROOT / "web"


def _single(template: Template, type_: str) -> Resource:
    """The one resource of a type the emulator needs exactly one of."""
    found = list(template.resources(type=type_))
    if len(found) != 1:
        raise TemplateError(f"the template must declare exactly one {type_}, found {len(found)}")
    return found[0]


def _rules_context(ctx: BrokerContext | None) -> MessageContext | None:
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
        self.aws: AwsServices | None = None
        self.runtime: LambdaRuntime | None = None
        self.engine: RulesEngine | None = None
        self.broker: IotBroker | None = None
        self.mappings: EventSourceMappings | None = None
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

    @property
    def topic_root(self) -> str:
        return str(self.template.parameters.get("TopicRoot", "chat"))

    async def start(self) -> None:
        """Bring every layer up; on failure, take down what had started."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        s = self.settings
        log.info(
            "template %s, stack %r:\n%s", s.template_path, s.stack_name, self.template.report()
        )
        for layer in check_layers(self.template, ROOT):
            users = ", ".join(layer.functions)
            line = f"layer {layer.layer} ({users}): provided by {layer.provided_by}"
            if layer.problem:
                log.warning("%s; %s", line, layer.problem)
            else:
                log.info("%s", line)

        log.info("starting moto (DynamoDB, Kinesis, Secrets Manager, SQS, Logs)")
        self.aws = await asyncio.to_thread(
            AwsServices(
                region=s.region, account_id=s.account_id, host=s.host, port=s.aws_port
            ).start
        )
        provisioned = await asyncio.to_thread(self.aws.provision, self.template)
        for type_, names in provisioned.created.items():
            log.info("created %s: %s", type_, ", ".join(names))

        self.runtime = LambdaRuntime(
            functions_from_template(self.template, ROOT), extra_env=self.function_env
        )
        warming = asyncio.create_task(self.runtime.prewarm())

        authorizer = _single(self.template, "AWS::IoT::Authorizer")
        authorizer_arn = str(authorizer.properties["AuthorizerFunctionArn"])
        runtime = self.runtime

        async def invoke_authorizer(event: dict[str, Any]) -> Any:
            return await runtime.invoke(authorizer_arn, event)

        rules = [
            Rule(resource.physical_id, resource.properties["TopicRulePayload"])
            for resource in self.template.resources(type="AWS::IoT::TopicRule")
        ]
        self.broker = IotBroker(
            invoke_authorizer=invoke_authorizer,
            authorizer_name=str(authorizer.properties["AuthorizerName"]),
            token_key_name=str(authorizer.properties.get("TokenKeyName", "token")),
            host=s.host,
            mqtt_port=s.mqtt_port,
            region=s.region,
            account_id=s.account_id,
        )
        broker = self.broker
        target = CallbackTarget(
            publish=broker.publish,
            invoke=runtime.invoke_async,
            clients=BotoClients(self.aws.endpoint_url, s.region),
        )
        self.engine = RulesEngine(rules, target, s.account_id, s.region)
        for warning in self.engine.warnings:
            log.warning("rules: %s", warning)
        engine = self.engine

        def on_publish(topic: str, payload: bytes, ctx: BrokerContext | None) -> None:
            engine.dispatch(topic, payload, _rules_context(ctx))

        broker.on_publish = on_publish
        await broker.start()

        token_url = _single(self.template, "AWS::Lambda::Url")
        token_arn = str(token_url.properties["TargetFunctionArn"])

        async def invoke_token(event: dict[str, Any]) -> Any:
            return await runtime.invoke(token_arn, event)

        app = create_app(
            broker=broker,
            invoke_token=invoke_token,
            web_root=s.web_root,
            authorizer_name=str(authorizer.properties["AuthorizerName"]),
            topic_root=self.topic_root,
            token_cors=CorsConfig.from_properties(token_url.properties.get("Cors")),
        )
        # access_log off: the /mqtt URL carries the guest token in its query string.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, s.host, s.port).start()

        self.mappings = EventSourceMappings(
            mappings_from_template(self.template), self.aws.client, runtime.invoke
        )
        await self.mappings.start()
        await warming
        log.info(
            "MQTT: ws://%s:%d/mqtt and tcp://%s:%d; AWS APIs (moto): %s",
            s.host,
            s.port,
            s.host,
            broker.mqtt_port,
            self.aws.endpoint_url,
        )

    async def stop(self) -> None:
        """Stop accepting work first, then drain, then release processes and ports."""
        if self.mappings is not None:
            await self.mappings.close()
        if self.broker is not None:
            await self.broker.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.engine is not None:
            await self.engine.close()
        if self.runtime is not None:
            await self.runtime.close()
        if self.aws is not None:
            await asyncio.to_thread(self.aws.stop)
        self.mappings = self.broker = self._runner = self.engine = self.runtime = self.aws = None
