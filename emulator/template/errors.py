"""Errors raised while loading a template, so callers can report them in one place."""

from __future__ import annotations


class TemplateError(ValueError):
    """The template cannot be loaded or resolved as CloudFormation would."""


class ParameterError(TemplateError):
    """A parameter value is missing, unknown or breaks the declared constraints."""


class UnsupportedIntrinsicError(TemplateError):
    """An intrinsic the emulator has no local meaning for (e.g. Fn::ImportValue)."""
