"""Local AWS IoT Core: the emulator.mqtt broker with custom auth, IoT policies, AWS's
limits and lifecycle events."""

from emulator.iot.broker import IotBroker, PublishHook
from emulator.iot.context import PublishMetadata
from emulator.iot.limits import Limits
from emulator.iot.policy import Decision, IotArns, Policy, PolicyError, PolicySet

__all__ = [
    "Decision",
    "IotArns",
    "IotBroker",
    "Limits",
    "Policy",
    "PolicyError",
    "PolicySet",
    "PublishHook",
    "PublishMetadata",
]
