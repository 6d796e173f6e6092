"""Directory logins with ldap3: service-account search, user bind, group membership.

Fails closed: any doubt (no or several entries, empty password, directory error) is a
refusal, never a login. User input only reaches the directory through
``escape_filter_chars`` (search filters) or as a DN the directory itself returned.
Synchronous (ldap3 is); the API calls it from a thread.
"""

from __future__ import annotations

import math
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from ldap3 import SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

MAX_USERNAME = 256
MAX_NESTING = 10


class LdapUnavailableError(RuntimeError):
    """The directory could not be reached or refused the service account."""


class LdapAuthError(RuntimeError):
    """Wrong name or password, or an ambiguous user; the message is safe to log."""


class LdapUnknownUserError(LdapAuthError):
    """No (single) directory entry for the name: often a password typed into the name box."""


@dataclass(frozen=True)
class LdapConfig:
    url: str
    bind_dn: str | None
    bind_password: str | None = field(repr=False)
    user_base_dn: str
    user_filter: str
    group_base_dn: str
    group_filter: str
    nested_groups: bool = True
    start_tls: bool = False
    ca_file: Path | None = None
    timeout_s: float = 5.0


@dataclass(frozen=True)
class LdapIdentity:
    dn: str
    groups: frozenset[str]  # normalised (lower-case) group DNs


def normalize_dn(dn: str) -> str:
    return ",".join(part.strip() for part in dn.split(",")).lower()


class LdapAuthenticator:
    def __init__(self, config: LdapConfig) -> None:
        self._config = config
        tls = None
        if config.url.lower().startswith("ldaps://") or config.start_tls:
            tls = Tls(
                validate=ssl.CERT_REQUIRED,
                ca_certs_file=str(config.ca_file) if config.ca_file else None,
            )
        # ldap3 reads "ldap://host:389/" as a bad port: drop the (empty) DN part.
        url = config.url.rstrip("/")
        self._server = Server(url, tls=tls, connect_timeout=config.timeout_s)

    def _connect(self, user: str | None, password: str | None) -> Connection:
        connection = Connection(
            self._server,
            user=user,
            password=password,
            receive_timeout=math.ceil(self._config.timeout_s),  # ldap3 packs an int
            raise_exceptions=False,
        )
        connection.open()
        if self._config.start_tls and not connection.start_tls():
            # Never fall back to sending the password in clear text.
            connection.unbind()
            raise LdapUnavailableError(
                f"StartTLS failed: {connection.result.get('description') or 'no TLS'}"
            )
        return connection

    def authenticate(self, username: str, password: str) -> LdapIdentity:
        if not username or len(username) > MAX_USERNAME or "\x00" in username:
            raise LdapUnknownUserError("user name empty, too long or malformed")
        if not password:
            # An empty password is an unauthenticated bind, which many servers accept.
            raise LdapAuthError("empty password")
        try:
            service = self._connect(self._config.bind_dn, self._config.bind_password)
            try:
                if not service.bind():
                    raise LdapUnavailableError(
                        f"service account bind refused: {service.result.get('description')}"
                    )
                user_dn = self._find_user(service, username)
                groups = self._groups(service, user_dn)
            finally:
                service.unbind()
            user = self._connect(user_dn, password)
            try:
                if not user.bind():
                    raise LdapAuthError("invalid credentials")
            finally:
                user.unbind()
        except (LDAPException, OSError) as exc:
            raise LdapUnavailableError(f"directory error: {type(exc).__name__}") from None
        return LdapIdentity(dn=user_dn, groups=groups)

    def _find_user(self, connection: Connection, username: str) -> str:
        search_filter = self._config.user_filter.replace(
            "{username}", escape_filter_chars(username)
        )
        connection.search(
            self._config.user_base_dn, search_filter, SUBTREE, attributes=[], size_limit=2
        )
        entries = [e for e in connection.response or [] if e.get("type") == "searchResEntry"]
        if len(entries) != 1:
            raise LdapUnknownUserError(f"{len(entries)} directory entries match the user name")
        return str(entries[0]["dn"])

    def _member_of(self, connection: Connection, dn: str) -> set[str]:
        member_filter = f"(&{self._config.group_filter}(member={escape_filter_chars(dn)}))"
        connection.search(self._config.group_base_dn, member_filter, SUBTREE, attributes=[])
        return {
            str(e["dn"]) for e in connection.response or [] if e.get("type") == "searchResEntry"
        }

    def _groups(self, connection: Connection, user_dn: str) -> frozenset[str]:
        """Direct groups; with nesting, also the groups those groups belong to (cycle-safe)."""
        found = {normalize_dn(g): g for g in self._member_of(connection, user_dn)}
        frontier = list(found.values())
        depth = 0
        while self._config.nested_groups and frontier and depth < MAX_NESTING:
            parents = {p for group in frontier for p in self._member_of(connection, group)}
            frontier = [p for p in parents if normalize_dn(p) not in found]
            found.update((normalize_dn(p), p) for p in frontier)
            depth += 1
        return frozenset(found)
