"""moto on loopback, provisioned from the template, and the env pointing boto3 at it."""

from emulator.aws.provision import Provisioned, provision
from emulator.aws.secret_values import generate_secret_string, random_password
from emulator.aws.services import MOTO_SERVICE_IDS, AwsServices

__all__ = [
    "MOTO_SERVICE_IDS",
    "AwsServices",
    "Provisioned",
    "generate_secret_string",
    "provision",
    "random_password",
]
