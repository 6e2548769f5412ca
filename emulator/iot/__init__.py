"""Local AWS IoT Core: amqtt broker with custom auth, IoT policies, lifecycle events, limits."""

from emulator.iot.broker import IotBroker, PublishHook
from emulator.iot.context import MessageContext
from emulator.iot.limits import Limits
from emulator.iot.policy import Decision, IotArns, Policy, PolicyError, PolicySet

__all__ = [
    "Decision",
    "IotArns",
    "IotBroker",
    "Limits",
    "MessageContext",
    "Policy",
    "PolicyError",
    "PolicySet",
    "PublishHook",
]
