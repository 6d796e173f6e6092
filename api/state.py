"""What the API process holds for its lifetime: engine, Temporal client, login machinery."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import Engine
from temporalio.client import Client

from api.ratelimit import LoginLimiter
from common.settings import Settings
from common.temporal import connect
from integrations.ldap import LdapAuthenticator, LdapConfig
from store.audit import AuditKeys
from store.server_reads import AsyncReadPool

TEMPORAL_CONNECT_TIMEOUT_S = 5.0


def ldap_from_settings(settings: Settings) -> LdapAuthenticator | None:
    if not settings.ldap_url:
        return None
    password = settings.ldap_bind_password
    return LdapAuthenticator(
        LdapConfig(
            url=settings.ldap_url,
            bind_dn=settings.ldap_bind_dn,
            bind_password=password.get_secret_value() if password else None,
            user_base_dn=settings.ldap_user_base_dn,
            user_filter=settings.ldap_user_filter,
            group_base_dn=settings.ldap_group_base_dn,
            group_filter=settings.ldap_group_filter,
            nested_groups=settings.ldap_nested_groups,
            start_tls=settings.ldap_start_tls,
            ca_file=settings.ldap_ca_file,
            timeout_s=settings.ldap_timeout_s,
        )
    )


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    temporal: Client | None = None
    ldap: LdapAuthenticator | None = None
    limiter: LoginLimiter = field(default_factory=lambda: LoginLimiter(5, 300))
    reads: AsyncReadPool | None = None
    """Event-loop connections for the hot server reads (PostgreSQL only)."""
    audit_keys: AuditKeys = field(default_factory=lambda: AuditKeys(None, {}))
    _connect_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def build(cls, settings: Settings, engine: Engine) -> AppState:
        return cls(
            settings=settings,
            engine=engine,
            ldap=ldap_from_settings(settings),
            limiter=LoginLimiter(settings.login_max_failures, settings.login_lockout_s),
            audit_keys=AuditKeys.from_settings(settings),
        )

    async def temporal_client(self) -> Client:
        """The shared client, connecting on first use so the API starts while Temporal is down."""
        async with self._connect_lock:
            if self.temporal is None:
                self.temporal = await asyncio.wait_for(
                    connect(self.settings), timeout=TEMPORAL_CONNECT_TIMEOUT_S
                )
            return self.temporal
