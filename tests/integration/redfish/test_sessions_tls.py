"""Sessions and TLS against the simulator over real HTTPS."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from integrations.redfish.errors import AuthenticationError, RedfishTLSError, SessionLimitError
from integrations.redfish.models import ClientOptions, Credentials
from simulators.idrac.tls import make_tls


async def test_session_is_created_used_and_deleted(host, make_client) -> None:
    async with make_client(host) as client:
        identity = await client.identity()
        assert host.state()["sessions"] == 1
    assert identity.service_tag == host.tag
    assert host.state()["sessions"] == 0, "the client must log out, iDRACs have few sessions"


async def test_default_verification_rejects_the_self_signed_certificate(host, options, credentials):
    from integrations.redfish.client import RedfishClient

    strict = options.model_copy(update={"ca_bundle": None})
    async with RedfishClient(host.url, credentials, strict) as client:
        with pytest.raises(RedfishTLSError, match="CA bundle"):
            await client.identity()


async def test_explicit_insecure_connects_without_a_ca(host, make_client) -> None:
    async with make_client(host, ca_bundle=None, insecure=True) as client:
        assert (await client.identity()).service_tag == host.tag


async def test_a_replaced_ca_bundle_is_trusted_from_the_next_client_on(
    host, make_client, simulator, tmp_path
) -> None:
    """TLS contexts are shared between clients, but an operator's new CA file takes effect
    without a worker restart (here: a bundle of a foreign CA, then the right one again)."""
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(simulator.ca_path.read_bytes())
    async with make_client(host, ca_bundle=bundle) as client:
        assert (await client.identity()).service_tag == host.tag
    _, foreign_ca = make_tls(["127.0.0.1"], tmp_path / "foreign")
    bundle.write_bytes(foreign_ca.read_bytes())
    async with make_client(host, ca_bundle=bundle) as client:
        with pytest.raises(RedfishTLSError, match="CA bundle"):
            await client.identity()
    bundle.write_bytes(simulator.ca_path.read_bytes())
    async with make_client(host, ca_bundle=bundle) as client:
        assert (await client.identity()).service_tag == host.tag


def test_ca_bundle_and_insecure_are_mutually_exclusive(simulator) -> None:
    with pytest.raises(ValueError, match="exclude each other"):
        ClientOptions(ca_bundle=simulator.ca_path, insecure=True)


async def test_wiped_tokens_are_replaced_by_a_new_login(host, make_client) -> None:
    """An iDRAC reset wipes every token; the next call gets 401 and must log in again."""
    async with make_client(host) as client:
        await client.identity()
        host.offline(1)  # iDRAC seconds: a short reset
        await client.wait_until_ready(expect_transition=True)
        identity = await client.identity()
    assert identity.service_tag == host.tag
    assert host.state()["sessions"] == 0


async def test_wrong_password_is_an_authentication_error(host, make_client) -> None:
    bad = Credentials(username="root", password="not-calvin")
    async with make_client(host, credentials=bad) as client:
        with pytest.raises(AuthenticationError, match="'root' rejected"):
            await client.identity()


async def test_basic_auth_is_an_explicit_fallback(host, make_client) -> None:
    async with make_client(host, auth="basic") as client:
        assert (await client.identity()).service_tag == host.tag
    assert host.state()["sessions"] == 0


async def test_sessions_a_dead_client_leaked_expire_after_the_session_timeout(
    host, make_client, credentials
) -> None:
    """A worker killed mid-step never logs out. Like a real iDRAC, the simulator closes a
    session idle for SessionTimeout (1800 s, iDRAC time), so the retried step logs in again
    instead of holding the host for a session limit that never lifts."""
    login = {"UserName": credentials.username, "Password": credentials.password.get_secret_value()}
    async with httpx.AsyncClient(verify=False) as raw:  # noqa: S501 (loopback simulator)
        for _ in range(8):  # every slot, never logged out
            answer = await raw.post(f"{host.url}/redfish/v1/SessionService/Sessions", json=login)
            assert answer.status_code == 201
    with pytest.raises(SessionLimitError):
        async with make_client(host, retries=0) as client:
            await client.identity()
    deadline = time.monotonic() + 120
    while True:
        try:
            async with make_client(host, retries=0) as client:
                identity = await client.identity()
            break
        except SessionLimitError:
            assert time.monotonic() < deadline, "leaked sessions never expired"
            await asyncio.sleep(0.5)
    assert identity.service_tag == host.tag
    assert host.state()["sessions"] == 0  # the leaked ones expired, ours logged out
