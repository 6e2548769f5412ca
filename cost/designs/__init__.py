"""The three designs the cost model compares, each a module with NAME, TITLE, usage()."""

from cost.designs import api_gateway, appsync_events, iot_core

DESIGNS = (iot_core, api_gateway, appsync_events)
