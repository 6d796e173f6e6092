"""Probe addresses for a Redfish service root and identify what answers.

Per address: one unauthenticated GET of /redfish/v1 (certificate checked; when it is
refused, the verdict is kept and the root is read again without verification, so an
iDRAC with its factory self-signed certificate is still found). Identity (model, service
tag, iDRAC firmware and generation) comes from the project's Redfish client with HTTP
basic auth: a scan must not take one of the iDRAC's few sessions. No password is ever
sent to a certificate we do not trust (unless the operator opted into insecure).

Only the addresses passed in are touched; choosing them is the caller's business.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from domain.discovery import CredentialStatus, Endpoint, TlsStatus, idrac_generation
from integrations.discovery.tls import verdict
from integrations.redfish.client import RedfishClient
from integrations.redfish.errors import AuthenticationError, RedfishError
from integrations.redfish.models import ClientOptions, Credentials
from integrations.redfish.transport import V1, certificate_error, ssl_verify


@dataclass(frozen=True)
class ScanOptions:
    port: int
    concurrency: int
    connect_timeout_s: float
    address_timeout_s: float
    trust: ClientOptions  # ca_bundle / insecure, as for every other iDRAC call


@dataclass(frozen=True)
class Login:
    profile_id: int
    credentials: Credentials


LoginLookup = Callable[[str], list[Login]]  # the logins that apply, most specific first
# Logins tried per address and run. iDRAC IP blocking rejects an address after
# iDRAC.IPBlocking.FailCount consecutive failures within FailWindow (iDRAC9 User's Guide,
# "IP Blocking"); a success clears the count. Two failures stay under any sane setting.
MAX_LOGIN_TRIES = 2
Progress = Callable[[int], None]


class _NoService(Exception):
    """Nothing at this address speaks Redfish (refused, silent, or another service)."""


class Clients:
    """One probing slot's HTTP clients. The unverified one (service root only, never a
    password) is made on first use: most ranges hold no untrusted certificate, and each
    client costs an SSL context."""

    def __init__(self, verified: httpx.AsyncClient, settings: dict[str, Any]) -> None:
        self.verified = verified
        self._settings = settings
        self._unverified: httpx.AsyncClient | None = None

    def unverified(self) -> httpx.AsyncClient:
        if self._unverified is None:
            self._unverified = httpx.AsyncClient(verify=False, **self._settings)  # noqa: S501
        return self._unverified

    async def aclose(self) -> None:
        if self._unverified is not None:
            await self._unverified.aclose()


@contextlib.asynccontextmanager
async def probe_clients(options: ScanOptions) -> AsyncIterator[Clients]:
    """One small pool per probing slot: httpcore scans every pooled connection per
    request, so one shared pool over thousands of hosts turns quadratic."""
    # The bare TCP connect already had connect_timeout_s; the TLS handshake that httpx
    # counts as "connect" gets the address's whole budget: on a busy worker, 256
    # handshakes at once took longer than 3 s and answering iDRACs were missed (measured).
    settings: dict[str, Any] = {
        "timeout": httpx.Timeout(options.address_timeout_s),
        "limits": httpx.Limits(max_keepalive_connections=1),
        "trust_env": False,
    }
    async with httpx.AsyncClient(verify=ssl_verify(options.trust), **settings) as verified:
        clients = Clients(verified, settings)
        try:
            yield clients
        finally:
            await clients.aclose()


async def _listening(address: str, port: int, timeout_s: float) -> bool:
    """A bare TCP connect first: most addresses of a range hold nothing, and a refused
    connect costs a fifth of the CPU of a refused HTTPS request (measured)."""
    try:
        async with asyncio.timeout(timeout_s):
            _, writer = await asyncio.open_connection(address, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def _service_root(
    clients: Clients, url: str, insecure: bool
) -> tuple[dict[str, Any], TlsStatus]:
    tls = TlsStatus.NOT_CHECKED if insecure else TlsStatus.TRUSTED
    try:
        response = await clients.verified.get(f"{url}{V1}")
    except httpx.HTTPError as exc:
        refused = certificate_error(exc)
        if refused is None:
            raise _NoService from None
        tls = verdict(refused)
        try:
            response = await clients.unverified().get(f"{url}{V1}")
        except httpx.HTTPError:
            raise _NoService from None
    try:
        root = response.json()
    except ValueError:
        raise _NoService from None
    if response.status_code != 200 or not isinstance(root, dict) or "RedfishVersion" not in root:
        raise _NoService
    return root, tls


async def _identify(
    http: httpx.AsyncClient, url: str, login: Login, options: ScanOptions
) -> dict[str, Any]:
    client = RedfishClient(url, login.credentials, basic_auth_options(options), http=http)
    try:
        identity = await client.identity()
        manager = await client.manager()
    finally:
        await client.aclose()
    return {
        "vendor": identity.vendor,
        "model": identity.model,
        "service_tag": identity.service_tag or None,
        "firmware_version": identity.bmc_version,
        "generation": idrac_generation(manager.get("Model"), identity.bmc_version)
        if identity.dell_oem
        else None,
    }


def _root_facts(root: dict[str, Any]) -> dict[str, Any]:
    dell = (root.get("Oem") or {}).get("Dell") or {}
    return {
        "redfish_version": root.get("RedfishVersion"),
        "vendor": root.get("Vendor"),
        "product": root.get("Product"),
        "service_tag": dell.get("ServiceTag"),  # iDRAC9 4.x+ shows it without login
    }


def base_url(address: str, port: int) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"https://{host}:{port}"


def basic_auth_options(options: ScanOptions) -> ClientOptions:
    """The Redfish client's options for a short look: basic auth, no retries (timeouts
    are the probing slot's HTTP client's)."""
    return options.trust.model_copy(update={"auth": "basic", "retries": 0})


async def probe(
    clients: Clients, address: str, options: ScanOptions, logins: LoginLookup
) -> Endpoint | None:
    """What answers at ADDRESS, or None when no Redfish service does."""
    url = base_url(address, options.port)
    if not await _listening(address, options.port, options.connect_timeout_s):
        return None
    try:
        async with asyncio.timeout(options.address_timeout_s):
            root, tls = await _service_root(clients, url, options.trust.insecure)
    except (_NoService, TimeoutError):
        return None
    facts = _root_facts(root)
    candidates = logins(address)
    if not candidates:
        status, detail, profile_id = CredentialStatus.NO_PROFILE, None, None
    elif tls not in (TlsStatus.TRUSTED, TlsStatus.NOT_CHECKED):
        status, profile_id = CredentialStatus.NOT_SENT, None
        detail = f"certificate {tls.value}: credentials not sent"
    else:
        status, detail, profile_id = await _log_in(clients, url, candidates, options, facts)
    return Endpoint(
        address=address,
        port=options.port,
        tls=tls,
        credentials=status,
        credential_profile_id=profile_id,
        detail=detail,
        **facts,
    )


async def _log_in(
    clients: Clients, url: str, candidates: list[Login], options: ScanOptions, facts: dict[str, Any]
) -> tuple[CredentialStatus, str | None, int | None]:
    """Try the logins in order until one opens the iDRAC; its identity joins ``facts``.
    Returns the verdict, its detail and the profile that opened it (or was tried last)."""
    tried: list[int] = []
    for login in candidates[:MAX_LOGIN_TRIES]:
        tried.append(login.profile_id)
        try:
            async with asyncio.timeout(options.address_timeout_s):
                identity = await _identify(clients.verified, url, login, options)
        except AuthenticationError:
            continue
        except (RedfishError, TimeoutError) as exc:
            return CredentialStatus.ERROR, failure_reason(exc), login.profile_id
        # The service root's words first (Vendor "Dell", not Manufacturer "Dell Inc."), so
        # that a run without a login reports the same vendor.
        for name, value in identity.items():
            facts[name] = facts.get(name) or value
        return CredentialStatus.OK, None, login.profile_id
    detail = "the iDRAC rejected the login"
    if len(tried) > 1:
        detail = f"the iDRAC rejected each login tried (profiles {', '.join(map(str, tried))})"
    return CredentialStatus.REJECTED, detail, tried[-1]


def failure_reason(exc: BaseException) -> str:
    if isinstance(exc, RedfishError):
        return exc.reason
    return f"no answer within the address timeout ({type(exc).__name__})"


async def scan(
    addresses: list[str],
    options: ScanOptions,
    logins: LoginLookup,
    progress: Progress | None = None,
) -> list[Endpoint]:
    """Probe every address, at most ``options.concurrency`` at once; found ones, in order."""
    found: dict[int, Endpoint] = {}
    queue = iter(enumerate(addresses))
    done = 0

    async def slot() -> None:
        nonlocal done
        async with probe_clients(options) as clients:
            for index, address in queue:
                endpoint = await probe(clients, address, options, logins)
                if endpoint is not None:
                    found[index] = endpoint
                done += 1
                if progress is not None:
                    progress(done)

    await asyncio.gather(*(slot() for _ in range(min(options.concurrency, len(addresses)))))
    return [found[i] for i in sorted(found)]
