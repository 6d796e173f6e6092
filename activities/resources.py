"""What activities need from the outside, resolved at call time (never carried by workflows).

Credentials are looked up in the store and decrypted for each call, so a rotated password
is used from the next attempt on and no secret ever enters a Temporal payload. Logged-in
vCenter sessions are kept between calls (keyed by those credentials).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from common.settings import Settings
from domain.package_links import PackageLink
from domain.runbook import HostRef
from integrations.redfish.client import RedfishClient
from integrations.redfish.models import ClientOptions, Credentials
from integrations.vcenter.client import VCenterClient, VCenterSettings
from integrations.vcenter.pool import SessionPool
from store.credentials import Credential, resolve_for_server, resolve_for_vcenter, reveal
from store.crypto import SecretBox, package_link_keys
from store.db import make_engine
from store.models import Server, Vcenter


class MissingCredentialsError(LookupError):
    """No credential profile applies; the message says which host and why."""


@dataclass(frozen=True)
class Resources:
    settings: Settings
    engine: Engine
    secrets: SecretBox
    redfish_options: ClientOptions = field(default_factory=ClientOptions)
    vcenter_ca_bundle: Path | None = None
    vcenter_insecure: bool = False
    vcenter_poll_s: float = 5.0  # how often a waiting activity re-reads vCenter
    vcenter_sessions: SessionPool = field(default_factory=SessionPool)

    @classmethod
    def from_settings(cls, settings: Settings) -> Resources:
        """The worker's resources; fails at start, not mid-campaign, without a secret key."""
        return cls(
            settings=settings,
            engine=make_engine(settings.effective_database_url),
            secrets=SecretBox.from_settings(settings),
            redfish_options=ClientOptions(
                ca_bundle=settings.idrac_ca_bundle,
                insecure=settings.idrac_insecure,
                poll_interval_s=settings.idrac_poll_interval_s,
            ),
            vcenter_ca_bundle=settings.vcenter_ca_bundle,
            vcenter_insecure=settings.vcenter_insecure,
            vcenter_poll_s=settings.vcenter_poll_interval_s,
        )

    async def redfish(self, host: HostRef, **options: Any) -> RedfishClient:
        """A client for the host's iDRAC; ``options`` override ClientOptions for this call.

        The store is read on a thread: Redfish activities share one event loop, and a
        blocking query there stalls every other host's requests and polls meanwhile."""
        credential = await asyncio.to_thread(self._idrac_credential, host)
        return RedfishClient(
            f"https://{host.idrac_address}:{self.settings.idrac_port}",
            Credentials(username=credential.username, password=credential.password),
            self.redfish_options.model_copy(update=options),
        )

    def _idrac_credential(self, host: HostRef) -> Credential:
        with Session(self.engine) as session:
            server = session.exec(
                select(Server).where(Server.service_tag == host.service_tag)
            ).one()
            resolution = resolve_for_server(session, server)
            if resolution.profile_id is None:
                raise MissingCredentialsError(f"{host.service_tag}: {resolution.reason}")
            return reveal(session, self.secrets, resolution.profile_id)

    def package_link(self, image_uri: str, campaign_id: int | None) -> str:
        """The ImageURI an iDRAC gets: a link into our repository is signed for this
        campaign and package, valid for ``package_link_ttl_s`` (iDRACs send no login)."""
        repository = f"{self.settings.effective_package_repository_url}/repository/"
        if campaign_id is None or not image_uri.startswith(repository):
            return image_uri  # a vendor URL, or a runbook recorded before links were signed
        sha256, file_name = image_uri.removeprefix(repository).split("/", 1)
        expires = int(time.time()) + self.settings.package_link_ttl_s
        link = PackageLink(campaign_id, sha256, file_name, expires)
        key = package_link_keys(self.settings)[0]
        return self.settings.effective_package_repository_url + link.path(key)

    def vcenter(self, vcenter_id: int | None) -> AbstractContextManager[VCenterClient]:
        """A logged-in session to that vCenter, for this thread until the block ends."""
        return self.vcenter_sessions.session(self._vcenter_settings(vcenter_id))

    def _vcenter_settings(self, vcenter_id: int | None) -> VCenterSettings:
        with Session(self.engine) as session:
            row = session.get(Vcenter, vcenter_id) if vcenter_id is not None else None
            if row is None:
                raise MissingCredentialsError(f"vCenter {vcenter_id} is not registered")
            resolution = resolve_for_vcenter(session, row)
            if resolution.profile_id is None:
                raise MissingCredentialsError(f"vCenter {row.name}: {resolution.reason}")
            credential = reveal(session, self.secrets, resolution.profile_id)
        return VCenterSettings(
            url=row.address,
            username=credential.username,
            password=credential.password,
            ca_bundle=self.vcenter_ca_bundle,
            insecure=self.vcenter_insecure,
        )
