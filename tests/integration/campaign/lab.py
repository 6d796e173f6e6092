"""A whole simulated lab for campaign tests: vcsim, the iDRAC fleet, a package server, a
PostgreSQL inventory that describes them, and the worker's resources pointed at it all."""

from __future__ import annotations

import hashlib
import random
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle

from activities.resources import Resources
from common.settings import Settings
from domain.campaign_spec import CampaignSpec, CampaignStartInput
from domain.package_links import SIGNED_PREFIX, PackageLink, refusal
from domain.runbook import CampaignResult
from domain.temporal_names import TaskQueue
from integrations.redfish.models import ClientOptions
from simulators.fleet import ClusterSpec, DatacenterSpec, Fleet, HaSpec, HostSpec
from simulators.idrac.personality import PersonalityName
from simulators.idrac.runner import SimulatorThread
from simulators.idrac.simulator import IdracSimulator
from simulators.vcsim.harness import READY_TIMEOUT_S as VCSIM_READY_TIMEOUT_S
from simulators.vcsim.harness import VcsimProcess
from store.audit import AuditKeys, verify
from store.credentials import set_secret
from store.crypto import SecretBox, package_link_keys
from store.db import make_engine
from store.migrate import upgrade
from store.models import (
    AuditEvent,
    Campaign,
    Cluster,
    CredentialProfile,
    Datacenter,
    FirmwarePackage,
    Server,
    Vcenter,
)
from tests.services.ports import free_port
from workflows.campaign import CampaignWorkflow

SECRET_KEY = "campaign-lab-key"
TIME_SCALE = 0.005
# Dell's DUP file names tell the simulator what an image contains.
BIOS_IMAGES = {
    version: f"BIOS_8MRPC_WN64_{version}.EXE" for version in ("2.11.2", "2.12.0", "2.13.0")
}
BIOS_TARGET = "2.11.2"


@dataclass(frozen=True)
class HostTruth:
    """A host as the simulators know it, whatever the orchestrator reported."""

    bios: str
    bios_flashes: int
    power: str  # the iDRAC's power state: "On" or "Off"
    in_maintenance: bool  # vCenter's view
    connection: str  # vCenter's connection state: "connected", "disconnected", ...


class _Repository(SimpleHTTPRequestHandler):
    """The package repository as iDRACs reach it: only a signed, unexpired link, checked
    by the product's rule (domain.package_links, as the API's route does), gets a file."""

    def __init__(self, *args: Any, keys: list[bytes], **kwargs: Any) -> None:
        self.keys = keys
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        parts = self.path.removeprefix(SIGNED_PREFIX + "/").split("/")
        if not self.path.startswith(SIGNED_PREFIX + "/") or len(parts) != 5:
            self.send_error(403, "unsigned package link")
            return
        campaign, expires, signature, sha256, file_name = parts
        link = PackageLink(int(campaign), sha256, file_name, int(expires))
        refused = refusal(link, signature, self.keys, time.time())
        if refused is not None:
            self.send_error(403, refused)
            return
        self.path = f"/repository/{sha256}/{file_name}"
        super().do_GET()

    def log_message(self, *_: Any) -> None:
        """Keep test output clean."""


@dataclass
class Lab:
    fleet: Fleet
    vcsim: VcsimProcess
    idrac: IdracSimulator
    settings: Settings
    resources: Resources
    bios_packages: dict[str, int]
    server_ids: dict[str, int] = field(default_factory=dict)

    def audited_host_actions(self, campaign_id: int) -> dict[str, list[AuditEvent]]:
        """One campaign's audited host actions (maintenance, flash, rollback) by service tag."""
        prefix = f"campaign:{campaign_id}/host:"
        with Session(self.resources.engine) as session:
            rows = session.exec(
                select(AuditEvent).where(
                    col(AuditEvent.target).startswith(prefix), AuditEvent.action != "host.alert"
                )
            ).all()
        audited: dict[str, list[AuditEvent]] = {}
        for row in rows:
            audited.setdefault(row.target.removeprefix(prefix), []).append(row)
        return audited

    def audit_chain_ok(self) -> bool:
        return verify(self.resources.engine, AuditKeys.from_settings(self.settings)).ok

    def idrac_state(self, tag: str) -> dict[str, Any]:
        url = f"{self.idrac.control_url}/hosts/{tag}"
        return httpx.get(url, timeout=10).raise_for_status().json()

    def truth(self) -> dict[str, HostTruth]:
        """Every host's real state, read from the iDRAC simulator and vCenter at once."""
        url = f"{self.idrac.control_url}/hosts"
        idracs = {h["service_tag"]: h for h in httpx.get(url, timeout=30).raise_for_status().json()}
        vcenter = self.vcenter_hosts()
        truth = {}
        for _, _, host in self.fleet.hosts():
            idrac = idracs[host.service_tag]
            in_maintenance, connection = vcenter[host.name]
            truth[host.service_tag] = HostTruth(
                bios=idrac["firmware"]["bios"],
                bios_flashes=idrac["flashes"].get("bios", 0),
                power=idrac["power_state"],
                in_maintenance=in_maintenance,
                connection=connection,
            )
        return truth

    def vcenter_hosts(self) -> dict[str, tuple[bool, str]]:
        """host name -> (in maintenance, connection state), as vCenter shows them."""
        with self.vcenter() as content:
            view = content.viewManager.CreateContainerView(
                content.rootFolder, [vim.HostSystem], True
            )
            return {
                host.name: (bool(host.runtime.inMaintenanceMode), str(host.runtime.connectionState))
                for host in view.view
            }

    def set_faults(self, tag: str, **faults: Any) -> None:
        url = f"{self.idrac.control_url}/hosts/{tag}/faults"
        httpx.post(url, json=faults, timeout=10).raise_for_status()

    def bios_spec(
        self,
        targets: dict[str, list[str]],
        version: str,
        *,
        package_version: str | None = None,
        windows: list[dict[str, str]] | None = None,
        policy: dict[str, object] | None = None,
    ) -> CampaignSpec:
        """A campaign bringing TARGETS' BIOS to VERSION from the lab's package for it
        (or, to test a mismatch, the package of PACKAGE_VERSION)."""
        package = self.bios_packages[package_version or version]
        return CampaignSpec.model_validate(
            {
                "targets": targets,
                "firmware": [{"component_id": "159", "version": version, "package_id": package}],
                "windows": windows or [],
                "policy": policy or {},
            }
        )

    def new_campaign(self, name: str) -> int:
        with Session(self.resources.engine) as session:
            row = Campaign(name=name, spec={}, created_by="tests")
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    async def start_campaign(
        self,
        client: Client,
        spec: CampaignSpec,
        name: str,
        execution_timeout: timedelta,
        created_by: str = "tests",
    ) -> WorkflowHandle[CampaignWorkflow, CampaignResult]:
        """Store a campaign row and start its workflow, as the API does."""
        campaign_id = self.new_campaign(f"{name}-{uuid.uuid4().hex[:6]}")
        return await client.start_workflow(
            CampaignWorkflow.run,
            CampaignStartInput(campaign_id=campaign_id, spec=spec, created_by=created_by),
            id=f"campaign-{campaign_id}",
            task_queue=TaskQueue.CAMPAIGNS,
            execution_timeout=execution_timeout,
        )

    @contextmanager
    def vcenter(self) -> Iterator[Any]:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the simulator's self-signed certificate
        si = SmartConnect(
            host=self.vcsim.host,
            port=self.vcsim.port,
            user=self.fleet.vcenter.username,
            pwd=self.fleet.vcenter.password,
            sslContext=context,
        )
        try:
            yield si.RetrieveContent()
        finally:
            Disconnect(si)

    def hosts_in_maintenance(self) -> dict[str, set[str]]:
        """cluster -> names of its hosts vCenter shows in maintenance (or not connected)."""
        with self.vcenter() as content:
            view = content.viewManager.CreateContainerView(
                content.rootFolder, [vim.HostSystem], True
            )
            down: dict[str, set[str]] = {}
            for host in view.view:
                if host.runtime.inMaintenanceMode:
                    down.setdefault(host.parent.name, set()).add(host.name)
            return down


LINES: tuple[PersonalityName, ...] = ("idrac9-4.x", "idrac9-5.x", "idrac9-7.x")


def lab_fleet(base: str) -> Fleet:
    """Two DRS clusters in Amsterdam: four hosts (HA reserves one) and three (no HA)."""

    def host(cluster: str, index: int, octet: int) -> HostSpec:
        tag = f"{cluster[:1].upper()}LAB{index:03d}"
        return HostSpec(
            name=f"esx-{cluster}-{index}.lab.test",
            service_tag=tag,
            idrac_address=f"{base}.{octet}",
            personality=LINES[index % len(LINES)],  # every iDRAC9 line in every cluster
        )

    alpha = ClusterSpec(
        name="alpha",
        vms_per_host=1,
        ha=HaSpec(enabled=True, admission_control="failover_level", failover_level=1),
        hosts=[host("alpha", i, i) for i in range(1, 5)],
    )
    bravo = ClusterSpec(
        name="bravo",
        vms_per_host=1,
        ha=HaSpec(enabled=False, admission_control="none"),
        hosts=[host("bravo", i, 10 + i) for i in range(1, 4)],
    )
    return Fleet(
        datacenters=[
            DatacenterSpec(name="dc-lab", timezone="Europe/Amsterdam", clusters=[alpha, bravo])
        ]
    )


def _serve_packages(root: Path, stack: ExitStack) -> str:
    keys = package_link_keys(Settings(secret_key=SECRET_KEY))
    handler = partial(_Repository, directory=str(root), keys=keys)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stack.callback(server.server_close)
    stack.callback(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}"


def _seed(
    engine: Any, fleet: Fleet, lab_dir: Path, vcsim: VcsimProcess
) -> tuple[dict[str, int], dict[str, int]]:
    """The inventory an operator would have entered through the API, as rows."""
    box = SecretBox(SECRET_KEY)
    with Session(engine) as session:
        idrac_login = CredentialProfile(
            name="idrac-default",
            scope="global",
            scope_key="global",
            username="root",
            secret_ciphertext=b"",
            key_id="",
        )
        set_secret(idrac_login, box, "calvin")
        # A vCenter login must not match any iDRAC: it is scoped to vcsim's address alone.
        vcenter_login = CredentialProfile(
            name="vcsim",
            scope="cidr",
            scope_key=f"cidr:{vcsim.host}/32",
            cidr=f"{vcsim.host}/32",
            username=fleet.vcenter.username,
            secret_ciphertext=b"",
            key_id="",
        )
        set_secret(vcenter_login, box, fleet.vcenter.password)
        datacenters = {
            dc.name: Datacenter(name=dc.name, timezone=dc.timezone) for dc in fleet.datacenters
        }
        session.add_all([idrac_login, vcenter_login, *datacenters.values()])
        session.commit()
        vc = Vcenter(
            name="vcsim",
            address=vcsim.url,
            datacenter_id=datacenters[fleet.datacenters[0].name].id,
            credential_profile_id=vcenter_login.id,
        )
        session.add(vc)
        session.commit()
        clusters = {c.name: Cluster(name=c.name, vcenter_id=vc.id) for _, c in fleet.clusters()}
        session.add_all(clusters.values())
        session.commit()
        servers = [
            Server(
                service_tag=host.service_tag,
                idrac_address=host.idrac_address or "",
                model=host.model,
                datacenter_id=datacenters[dc.name].id,
                cluster_id=clusters[cluster.name].id,
                esxi_host=host.name,
            )
            for dc, cluster, host in fleet.hosts()
        ]
        packages = {
            version: _package(lab_dir, version, name) for version, name in BIOS_IMAGES.items()
        }
        session.add_all([*servers, *packages.values()])
        session.commit()
        return {s.service_tag: s.id for s in servers}, {v: p.id for v, p in packages.items()}


def _package(lab_dir: Path, version: str, file_name: str) -> FirmwarePackage:
    """An uploaded package: its file where the repository URL says it is."""
    image = f"MZ simulated BIOS {version}\n".encode()
    sha = hashlib.sha256(image).hexdigest()
    (lab_dir / "repository" / sha).mkdir(parents=True)
    (lab_dir / "repository" / sha / file_name).write_bytes(image)
    return FirmwarePackage(
        name="BIOS",
        component_id="159",
        version=version,
        sha256=sha,
        file_name=file_name,
        size_bytes=len(image),
    )


@contextmanager
def running_lab(
    postgres_url: str,
    lab_dir: Path,
    fleet: Fleet | None = None,
    time_scale: float = TIME_SCALE,
    vcsim_ready_timeout_s: float = VCSIM_READY_TIMEOUT_S,
) -> Iterator[Lab]:
    """Everything the campaign needs, on loopback; stopped in reverse order afterwards.

    Default: the two-cluster ``lab_fleet`` on a random 127.23.x network. Benchmarks pass
    their own (larger) fleet, with its iDRAC addresses, and their own time scale.
    """
    fleet = fleet or lab_fleet(f"127.23.{random.randint(0, 250)}")
    with ExitStack() as stack:
        vcsim = stack.enter_context(
            VcsimProcess(fleet, port=free_port(), ready_timeout_s=vcsim_ready_timeout_s)
        )
        idrac = IdracSimulator(
            [h for _, _, h in fleet.hosts()],
            port=0,
            time_scale=time_scale,
            vcenter_control=vcsim.control_url,
            state_dir=lab_dir / "idrac-state",
        )
        stack.enter_context(SimulatorThread(idrac))
        repository = _serve_packages(lab_dir, stack)
        upgrade(postgres_url)
        engine = make_engine(postgres_url)
        stack.callback(engine.dispose)
        server_ids, packages = _seed(engine, fleet, lab_dir, vcsim)
        settings = Settings(
            database_url=postgres_url,
            secret_key=SECRET_KEY,
            package_repository_url=repository,
            idrac_port=idrac.port,
        )
        resources = Resources(
            settings=settings,
            engine=engine,
            secrets=SecretBox(SECRET_KEY),
            redfish_options=ClientOptions(
                ca_bundle=idrac.ca_path,
                poll_interval_s=0.05,
                backoff_s=0.05,
                backoff_max_s=0.5,
                connect_timeout_s=2,
                read_timeout_s=10,
                job_timeout_s=60,
                task_404_grace_s=3,
                idrac_offline_timeout_s=30,
                host_back_timeout_s=60,
                lc_ready_timeout_s=30,
                lc_settle_s=2,
            ),
            vcenter_insecure=True,
            vcenter_poll_s=0.2,
        )
        yield Lab(fleet, vcsim, idrac, settings, resources, packages, server_ids)
