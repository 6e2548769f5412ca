"""Load a CloudFormation template and resolve it the way CloudFormation would, locally."""

from emulator.template.errors import ParameterError, TemplateError, UnsupportedIntrinsicError
from emulator.template.intrinsics import NO_VALUE
from emulator.template.model import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    DEFAULT_STACK_NAME,
    EMULATED_TYPES,
    Resource,
    ResourceType,
    Template,
    load_template,
    template_from_dict,
)

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_REGION",
    "DEFAULT_STACK_NAME",
    "EMULATED_TYPES",
    "NO_VALUE",
    "ParameterError",
    "Resource",
    "ResourceType",
    "Template",
    "TemplateError",
    "UnsupportedIntrinsicError",
    "load_template",
    "template_from_dict",
]
