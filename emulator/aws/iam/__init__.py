"""IAM for the emulator: roles' credentials, and every call made with them evaluated.

- ``gate``: in moto's process, evaluates calls to moto made with role credentials.
- ``access``: in the emulator's, issues credentials and evaluates what the emulator
  serves itself (IoT publish, Lambda invoke permissions); ``data_plane`` and
  ``rules_target`` apply it to the data plane and to rule actions.
- ``policies``, ``operations``, ``sigv4``, ``lambda_permissions``, ``credentials``:
  the parts they share.

The policy engine is the emulator's IoT one (``emulator.iot.policy``: PolicySet,
Decision), so IAM and IoT policies are evaluated with the same semantics.
"""

from emulator.aws.iam.access import AccessDenied, EmulatorIam, report
from emulator.aws.iam.credentials import (
    IOT,
    LAMBDA,
    CredentialIssuer,
    RoleClients,
    RoleCredentials,
    RoleNotAssumable,
    trusts,
)
from emulator.aws.iam.data_plane import data_plane_iam
from emulator.aws.iam.lambda_permissions import Caller, LambdaPermission, LambdaPermissions
from emulator.aws.iam.rules_target import IamActionTarget

__all__ = [
    "IOT",
    "LAMBDA",
    "AccessDenied",
    "Caller",
    "CredentialIssuer",
    "EmulatorIam",
    "IamActionTarget",
    "LambdaPermission",
    "LambdaPermissions",
    "RoleClients",
    "RoleCredentials",
    "RoleNotAssumable",
    "data_plane_iam",
    "report",
    "trusts",
]
