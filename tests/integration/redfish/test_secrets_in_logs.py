"""Every log line of a whole update, captured: the password and the token never appear."""

from __future__ import annotations

import io

import pytest

from common.logging import configure_logging
from integrations.redfish.client import RedfishClient
from integrations.redfish.flows import update_firmware
from integrations.redfish.models import Credentials
from tests.integration.redfish.test_updates import BIOS


@pytest.fixture
def captured_logs(restore_logging: None) -> io.StringIO:
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream)
    return stream


async def test_update_logs_leak_neither_password_nor_token(
    secret_host, options, image_dir, captured_logs
) -> None:
    credentials = Credentials(username="root", password=secret_host.password)
    async with RedfishClient(secret_host.url, credentials, options) as client:
        outcome = await update_firmware(client, file=image_dir / BIOS, reboot=True)
        token = client.transport._token
    logs = captured_logs.getvalue()
    assert token and outcome.changes
    assert "redfish update job created" in logs and "HTTP Request" in logs, "logs were captured"
    assert secret_host.password not in logs
    assert token not in logs
