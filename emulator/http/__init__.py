"""aiohttp front door: static site, config.json, function URLs, data plane, /mqtt."""

from emulator.http.app import MqttGateway, create_app
from emulator.http.function_url import FunctionUrlRoute

__all__ = ["FunctionUrlRoute", "MqttGateway", "create_app"]
