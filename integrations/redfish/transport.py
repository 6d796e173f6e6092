"""HTTP to one BMC: TLS, one Redfish session, bounded retries, typed errors.

One session per host, created lazily, re-created once when a request gets 401 (an
iDRAC reset wipes every token), always deleted on close. HTTP Basic instead when asked,
or when the service root links no sessions (a BMC without SessionService). Retries with exponential
backoff cover connection errors, 503 and the documented busy MessageIds; a POST is
retried only when it certainly did not reach the BMC (connect failure) or was refused
as busy, so an update is never submitted twice.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import ssl
from typing import Any

import httpx

from common.logging import get_logger, register_secret
from integrations.redfish.documents import link
from integrations.redfish.errors import (
    BUSY_MESSAGE_IDS,
    SESSION_LIMIT_MESSAGE_IDS,
    AuthenticationError,
    AuthSchemeError,
    BusyError,
    NotFoundError,
    RedfishConnectionError,
    RedfishError,
    RedfishTLSError,
    SessionLimitError,
    UnsupportedError,
    first_message,
    message_id_suffix,
)
from integrations.redfish.models import ClientOptions, Credentials

log = get_logger("integrations.redfish")
V1 = "/redfish/v1"
_SAFE_TO_REPEAT = frozenset({"GET", "HEAD", "DELETE"})


class _NoHeaderTraces(logging.Filter):
    """httpcore's DEBUG trace prints raw response headers, X-Auth-Token included, before
    the client has seen (and registered) the new token: drop those records."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("receive_response_headers.complete")


for _name in ("httpcore.http11", "httpcore.http2"):
    logging.getLogger(_name).addFilter(_NoHeaderTraces())


def ssl_verify(options: ClientOptions) -> ssl.SSLContext | bool:
    """Verification on by default; a CA bundle narrows trust; insecure must be explicit."""
    if options.insecure:
        return False
    if options.ca_bundle:
        return _tls_context(str(options.ca_bundle), options.ca_bundle.stat().st_mtime_ns)
    return _tls_context(None, None)


@functools.lru_cache(maxsize=8)
def _tls_context(ca_bundle: str | None, modified_ns: int | None) -> ssl.SSLContext:
    """One context per trust store (a changed bundle file is read again): loading the
    system's CAs takes 15-30 ms, and every Redfish step of every host makes a client."""
    return ssl.create_default_context(cafile=ca_bundle)


def certificate_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate refusal behind an error, if that is what it was. Other TLS errors
    (a handshake cut short by an iDRAC that is resetting: SSLEOFError, SSLZeroReturnError)
    are connection trouble, retried."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class RedfishTransport:
    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        options: ClientOptions,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.host = httpx.URL(self.base_url).host
        self.options = options
        self._credentials = credentials
        register_secret(credentials.password.get_secret_value())
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(
            verify=ssl_verify(options),
            timeout=httpx.Timeout(options.read_timeout_s, connect=options.connect_timeout_s),
        )
        self._basic: bool | None = True if options.auth == "basic" else None  # None: ask root
        self._token: str | None = None
        self._session_uri: str | None = None
        self._login_lock = asyncio.Lock()
        self._root: dict[str, Any] | None = None
        self.requests_sent = 0

    # -- sessions -------------------------------------------------------------------
    async def service_root(self) -> dict[str, Any]:
        if self._root is None:
            response = await self._send("GET", V1, authenticated=False)
            self._root = response.json()
        return self._root

    async def uses_basic(self) -> bool:
        """HTTP Basic when asked, or when the service offers no sessions at all."""
        if self._basic is None:
            root = await self.service_root()
            self._basic = link(root, "SessionService") is None and not link(
                root, "Links", "Sessions"
            )
            if self._basic:
                log.info("redfish service has no SessionService, using HTTP Basic", host=self.host)
        return self._basic

    async def _sessions_uri(self) -> str:
        """SessionService/Sessions from RedfishVersion 1.6.0 on, else /Sessions (iDRAC7/8)."""
        root = await self.service_root()
        linked = link(root, "Links", "Sessions")
        if linked:
            return linked
        version = tuple(int(p) for p in str(root.get("RedfishVersion", "1.6.0")).split(".")[:3])
        return f"{V1}/SessionService/Sessions" if version >= (1, 6, 0) else f"{V1}/Sessions"

    async def login(self, stale_token: str | None = None) -> None:
        async with self._login_lock:
            if self._token is not None and self._token != stale_token:
                return  # another request already logged in again
            self._token = None
            body = {
                "UserName": self._credentials.username,
                "Password": self._credentials.password.get_secret_value(),
            }
            uri = await self._sessions_uri()
            response = await self._send(
                "POST", uri, json=body, authenticated=False, allow=(401, 404, 405)
            )
            if response.status_code == 401:
                raise self._error("POST", uri, response, credentials=True)
            if response.status_code not in (200, 201):
                raise UnsupportedError(
                    f"{self._describe('POST', uri, response)}: the BMC offers no session "
                    "login here; use HTTP Basic",
                    host=self.host,
                    status=response.status_code,
                )
            token = response.headers.get("X-Auth-Token")
            if not token:
                raise RedfishError("session created without X-Auth-Token", host=self.host)
            register_secret(token)
            self._token = token
            location = response.headers.get("Location")
            session_id = json_body(response).get("Id")
            self._session_uri = location or (
                f"{await self._sessions_uri()}/{session_id}" if session_id else None
            )
            log.info("redfish session opened", host=self.host)

    async def logout(self) -> None:
        """Delete our session (iDRACs have few); failures are logged, never raised."""
        token, uri = self._token, self._session_uri
        self._token = self._session_uri = None
        if token and uri:
            try:
                await self._http.delete(self._url(uri), headers={"X-Auth-Token": token})
                self.requests_sent += 1
                log.info("redfish session closed", host=self.host)
            except httpx.HTTPError as exc:
                log.warning("redfish logout failed", host=self.host, error=type(exc).__name__)

    async def aclose(self) -> None:
        await self.logout()
        if self._own_http:
            await self._http.aclose()

    # -- requests -------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        files: Any = None,
        headers: dict[str, str] | None = None,
        allow: tuple[int, ...] = (),
        retry: bool = True,
    ) -> httpx.Response:
        """Send with auth; statuses in ALLOW are returned instead of raised."""
        if self._token is None and not await self.uses_basic():
            await self.login()
        relogged = False
        while True:
            used_token = self._token
            response = await self._send(
                method, path, json=json, files=files, headers=headers, retry=retry, allow=allow
            )
            if response.status_code == 401 and not self._basic:
                if relogged:
                    raise self._error(method, path, response)
                log.info("redfish token rejected, logging in again", host=self.host)
                relogged = True
                await self.login(stale_token=used_token)
                continue
            return response

    async def get_json(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return json_body(await self.request("GET", path, **kwargs))

    async def _send(
        self,
        method: str,
        path: str,
        *,
        authenticated: bool = True,
        retry: bool = True,
        allow: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        attempts = self.options.retries + 1 if retry else 1
        if authenticated and self._token is not None:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "X-Auth-Token": self._token}
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = await self._http.request(
                    method, self._url(path), auth=self._auth(authenticated), **kwargs
                )
            except httpx.TransportError as exc:
                if certificate_error(exc) is not None:
                    raise RedfishTLSError(
                        "TLS verification failed: pass a CA bundle that signs the BMC's "
                        "certificate, or opt in to insecure explicitly",
                        host=self.host,
                    ) from None
                self.requests_sent += 1
                not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if last or not (not_sent or method in _SAFE_TO_REPEAT):
                    raise RedfishConnectionError(
                        f"{method} {path}: no answer ({type(exc).__name__})", host=self.host
                    ) from None
                await self._backoff(attempt, f"{type(exc).__name__}")
                continue
            self.requests_sent += 1
            if response.is_success or response.status_code in allow:
                return response
            if response.status_code == 401 and authenticated and not self._basic:
                return response  # the caller logs in again
            error = self._error(method, path, response, anonymous=not authenticated)
            retryable = isinstance(error, BusyError) or (
                response.status_code >= 500 and method in _SAFE_TO_REPEAT
            )
            if last or not retryable:
                raise error
            await self._backoff(attempt, error.reason)
        raise AssertionError("unreachable")

    def _auth(self, authenticated: bool) -> httpx.Auth | None:
        if authenticated and self._basic:
            return httpx.BasicAuth(
                self._credentials.username, self._credentials.password.get_secret_value()
            )
        return None

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    async def _backoff(self, attempt: int, why: str) -> None:
        delay = min(self.options.backoff_s * 2 ** (attempt - 1), self.options.backoff_max_s)
        delay *= random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not crypto)
        log.info("redfish retry", host=self.host, attempt=attempt, reason=why, delay_s=delay)
        await asyncio.sleep(delay)

    def _describe(self, method: str, path: str, response: httpx.Response) -> str:
        """``POST /x -> HTTP 405: <MessageId> <Message>``: what the BMC answered."""
        message_id, message = first_message(json_body(response))
        what = f"{method} {path} -> HTTP {response.status_code}"
        said = " ".join(filter(None, [message_id, message]))
        return f"{what}: {said}" if said else what

    def _error(
        self,
        method: str,
        path: str,
        response: httpx.Response,
        *,
        credentials: bool = False,
        anonymous: bool = False,
    ) -> RedfishError:
        """The typed error for a refused request; CREDENTIALS: it was the session login."""
        message_id, _ = first_message(json_body(response))
        suffix = message_id_suffix(message_id)
        status = response.status_code
        detail = self._describe(method, path, response)
        kwargs = {"host": self.host, "status": status, "message_id": message_id}
        if suffix in SESSION_LIMIT_MESSAGE_IDS:
            return SessionLimitError(
                f"session limit reached ({message_id}): close other sessions or wait for "
                "them to expire",
                **kwargs,
            )
        if status == 401:
            return self._unauthorized(detail, response, credentials, anonymous, kwargs)
        if status == 503 or suffix in BUSY_MESSAGE_IDS:
            return BusyError(f"BMC busy: {detail}", **kwargs)
        if status == 404:
            return NotFoundError(detail, **kwargs)
        return RedfishError(detail, **kwargs)

    def _unauthorized(
        self,
        detail: str,
        response: httpx.Response,
        credentials: bool,
        anonymous: bool,
        kwargs: dict[str, Any],
    ) -> RedfishError:
        """A 401 blames the credentials only when they were what the BMC judged: a session
        login, or HTTP Basic that the BMC itself asked for (WWW-Authenticate: Basic)."""
        challenge = response.headers.get("WWW-Authenticate", "")
        basic_refused = self._basic and not anonymous and not credentials
        if credentials or (basic_refused and "basic" in challenge.lower()):
            how = "HTTP Basic" if basic_refused else "session login"
            return AuthenticationError(
                f"login as {self._credentials.username!r} rejected ({how}, HTTP 401): "
                "check username and password",
                **kwargs,
            )
        if basic_refused:
            offered = f"WWW-Authenticate: {challenge}" if challenge else "no Basic challenge"
            return AuthSchemeError(
                f"{detail}: the BMC does not take HTTP Basic ({offered})", **kwargs
            )
        if anonymous:
            return RedfishError(f"{detail}: the BMC wants a login for this path", **kwargs)
        return AuthenticationError(
            f"{detail}: the BMC refused the session it had just granted", **kwargs
        )


def json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
