"""aiohttp front door of the emulator: web client, config.json, token URL, data plane, /mqtt."""

from emulator.http.app import MqttGateway, TokenInvoke, create_app

__all__ = ["MqttGateway", "TokenInvoke", "create_app"]
