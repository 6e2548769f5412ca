"""IAM for the emulator: roles' credentials, and every call made with them evaluated.

- ``gate``: in moto's process, evaluates calls to moto made with role credentials.
- ``access``: in the emulator's, issues credentials and evaluates what the emulator
  serves itself (IoT publish, Lambda invoke permissions); ``data_plane`` and
  ``rules_target`` apply it to the data plane and to rule actions.
- ``policies``, ``operations``, ``sigv4``, ``lambda_permissions``, ``credentials``:
  the parts they share.

The policy engine is the emulator's IoT one (``emulator.iot.policy``: PolicySet,
Decision), so IAM and IoT policies are evaluated with the same semantics.

Exports load lazily: moto's process imports the gate alone, not the emulator's side.
"""

from __future__ import annotations

from emulator.exports import lazy_exports

_EXPORTS = {
    "AccessDenied": "emulator.aws.iam.access",
    "EmulatorIam": "emulator.aws.iam.access",
    "report": "emulator.aws.iam.access",
    "IOT": "emulator.aws.iam.credentials",
    "LAMBDA": "emulator.aws.iam.credentials",
    "CredentialIssuer": "emulator.aws.iam.credentials",
    "RoleClients": "emulator.aws.iam.credentials",
    "RoleCredentials": "emulator.aws.iam.credentials",
    "RoleNotAssumable": "emulator.aws.iam.credentials",
    "trusts": "emulator.aws.iam.credentials",
    "data_plane_iam": "emulator.aws.iam.data_plane",
    "Caller": "emulator.aws.iam.lambda_permissions",
    "LambdaPermission": "emulator.aws.iam.lambda_permissions",
    "LambdaPermissions": "emulator.aws.iam.lambda_permissions",
    "IamActionTarget": "emulator.aws.iam.rules_target",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
