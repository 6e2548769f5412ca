"""Device authorizer of the telemetry example (inlined into template.json by build.py).

A device connects over MQTT with its id as the user name and, as the password,
HMAC-SHA256(fleet key, device id) in hex: one secret for the fleet, a different password
for each device, nothing stored per device. The answer lets the device connect as its
own id and publish only to telemetry/<its id>.
"""

import base64
import hmac
import os
import re

import boto3

DEVICE_ID = re.compile(r"[A-Za-z0-9]{1,64}")
_fleet_key = []


def _key():
    if not _fleet_key:
        secrets = boto3.client("secretsmanager")
        value = secrets.get_secret_value(SecretId=os.environ["FLEET_KEY_ARN"])["SecretString"]
        _fleet_key.append(value.encode())
    return _fleet_key[0]


def handler(event, context):
    mqtt = (event.get("protocolData") or {}).get("mqtt") or {}
    device = mqtt.get("username") or ""
    try:
        password = base64.b64decode(mqtt.get("password") or "").decode()
    except ValueError:
        password = ""
    expected = hmac.new(_key(), device.encode(), "sha256").hexdigest()
    if not DEVICE_ID.fullmatch(device) or not hmac.compare_digest(password, expected):
        return {"isAuthenticated": False, "principalId": "unknown", "policyDocuments": []}
    _, _, _, region, account, _ = context.invoked_function_arn.split(":", 5)
    iot = f"arn:aws:iot:{region}:{account}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{iot}:client/{device}"},
            {
                "Effect": "Allow",
                "Action": "iot:Publish",
                "Resource": f"{iot}:topic/telemetry/{device}",
            },
        ],
    }
    return {
        "isAuthenticated": True,
        "principalId": device,
        "disconnectAfterInSeconds": 86400,
        "policyDocuments": [policy],
    }
