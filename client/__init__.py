"""Python device client for the chat: awscrt MQTT, custom-authorizer tokens, JSON commands.

It speaks the same contract as the browser client (docs/internals.md), so it can drive
a deployed stack, the local emulator, or (for the benchmark) a bare MQTT broker.
"""
