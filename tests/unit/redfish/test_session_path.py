"""Session URI by RedfishVersion (reference §1).

A mock transport here, and only here: the simulator models iDRAC9 (Redfish 1.17), and an
iDRAC7/8 service root without Links.Sessions is not something any real part here serves.
"""

from __future__ import annotations

import httpx
import pytest

from integrations.redfish.models import ClientOptions, Credentials
from integrations.redfish.transport import RedfishTransport


def _bmc(root: dict, seen: list[str]) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/redfish/v1":
            return httpx.Response(200, json=root)
        if request.method == "POST":
            return httpx.Response(201, json={"Id": "7"}, headers={"X-Auth-Token": "t0ken-abc"})
        return httpx.Response(204)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


@pytest.mark.parametrize(
    ("root", "sessions"),
    [
        ({"RedfishVersion": "1.0.2"}, "/redfish/v1/Sessions"),
        ({"RedfishVersion": "1.6.0"}, "/redfish/v1/SessionService/Sessions"),
        ({"Links": {"Sessions": {"@odata.id": "/redfish/v1/Custom/Sessions"}}},
         "/redfish/v1/Custom/Sessions"),
    ],
)  # fmt: skip
async def test_session_uri_follows_the_redfish_version(root: dict, sessions: str) -> None:
    seen: list[str] = []
    credentials = Credentials(username="root", password="calvin")
    transport = RedfishTransport("https://bmc", credentials, ClientOptions(), _bmc(root, seen))
    await transport.login()
    await transport.logout()
    assert seen == ["GET /redfish/v1", f"POST {sessions}", f"DELETE {sessions}/7"]
