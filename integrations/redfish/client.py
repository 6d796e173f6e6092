"""Async Redfish client for one Dell iDRAC9 (or any Redfish BMC: Dell OEM only where present).

Resources are discovered from collections and links (Systems, Managers, Links.Oem.Dell,
Actions targets), never assumed, so the same client drives a generic BMC through the
standard TaskService path.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from common.logging import get_logger
from domain.onboarding import IdracLicense
from integrations.redfish.documents import dell_system_id, dig, link, service_tag
from integrations.redfish.errors import NotFoundError, RedfishError, UnsupportedError
from integrations.redfish.inventory import find_component, parse_inventory
from integrations.redfish.jobs import job_info
from integrations.redfish.models import (
    ClientOptions,
    Credentials,
    FirmwareComponent,
    FirmwareInventory,
    JobInfo,
    JobRef,
    JobStatus,
    LifecycleStatus,
    SystemIdentity,
    UpdateCapabilities,
)
from integrations.redfish.power import PowerControl
from integrations.redfish.tracker import JobTracker, ProgressCallback
from integrations.redfish.transport import RedfishTransport, json_body

log = get_logger("integrations.redfish")
EXPAND = "$expand=*($levels=1)"
_MEMBER_FETCH_CONCURRENCY = 8


class RedfishClient:
    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        options: ClientOptions | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.options = options or ClientOptions()
        self.transport = RedfishTransport(base_url, credentials, self.options, http)
        self.host = self.transport.host
        self._system: dict[str, Any] | None = None
        self._manager: dict[str, Any] | None = None
        self.power = PowerControl(self)

    async def __aenter__(self) -> RedfishClient:
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()

    # -- discovery ------------------------------------------------------------------
    async def root_link(self, name: str) -> str:
        """A top-level resource the service root links (Systems, UpdateService, ...)."""
        uri = link(await self.transport.service_root(), name)
        if uri is None:
            raise UnsupportedError(f"the service root links no {name}", host=self.host)
        return uri

    async def _first_member(self, name: str) -> dict[str, Any]:
        """The first member of a top-level collection, expanded in the same request
        when the BMC supports it."""
        collection = await self.root_link(name)
        document = await self.transport.get_json(f"{collection}?{EXPAND}")
        members = [m for m in document.get("Members") or [] if isinstance(m, dict)]
        if not members:
            raise NotFoundError(f"{collection} has no members", host=self.host)
        if "Id" in members[0]:
            return members[0]
        uri = link(members[0])
        if uri is None:
            raise NotFoundError(f"{collection} lists a member without @odata.id", host=self.host)
        return await self.transport.get_json(uri)

    async def system(self, refresh: bool = True) -> dict[str, Any]:
        if self._system is None:
            self._system = await self._first_member("Systems")
        elif refresh:
            self._system = await self.transport.get_json(self._system["@odata.id"])
        return self._system

    async def manager(self, refresh: bool = False) -> dict[str, Any]:
        if self._manager is None:
            self._manager = await self._first_member("Managers")
        elif refresh:
            self._manager = await self.transport.get_json(self._manager["@odata.id"])
        return self._manager

    async def dell_link(self, name: str) -> str | None:
        """A Links.Oem.Dell resource of the manager (DellLCService, Jobs, ...), if Dell."""
        if link(await self.transport.service_root(), "Managers") is None:
            return None
        return link(await self.manager(), "Links", "Oem", "Dell", name)

    async def is_dell(self) -> bool:
        return await self.dell_link("DellLCService") is not None

    # -- identity and health --------------------------------------------------------
    async def identity(self) -> SystemIdentity:
        """What the BMC tells about its system; a BMC without Managers has no version."""
        system = await self.system(refresh=self._system is not None)
        has_manager = link(await self.transport.service_root(), "Managers") is not None
        manager = await self.manager(refresh=self._manager is not None) if has_manager else {}
        dell = isinstance(dig(system, "Oem", "Dell", "DellSystem"), dict) or await self.is_dell()
        return SystemIdentity(
            vendor=str(system.get("Manufacturer") or "unknown"),
            model=str(system.get("Model") or "unknown"),
            service_tag=service_tag(system, dell),
            dell_system_id=dell_system_id(system),
            bios_version=system.get("BiosVersion"),
            bmc_version=manager.get("FirmwareVersion"),
            power_state=system.get("PowerState"),
            health=dig(system, "Status", "Health"),
            health_rollup=dig(system, "Status", "HealthRollup"),
            dell_oem=dell,
        )

    async def lifecycle_status(self) -> LifecycleStatus:
        """Dell GetRemoteServicesAPIStatus; on a generic BMC: system powered on and enabled."""
        service = await self.dell_link("DellLCService")
        if service is None:
            system = await self.system()
            state = (system.get("Status") or {}).get("State")
            ready = system.get("PowerState") == "On" and state in (None, "Enabled")
            return LifecycleStatus(ready=ready, status=state)
        action = f"{service}/Actions/DellLCService.GetRemoteServicesAPIStatus"
        body = json_body(await self.transport.request("POST", action, json={}))
        answered = [body.get(key) for key in ("LCStatus", "Status") if body.get(key) is not None]
        return LifecycleStatus(
            ready=bool(answered) and all(value == "Ready" for value in answered),
            lc_status=body.get("LCStatus"),
            server_status=body.get("ServerStatus"),
            status=body.get("Status"),
        )

    async def wait_until_ready(self, expect_transition: bool = False) -> LifecycleStatus:
        return await self.power.wait_until_ready(expect_transition)

    # -- firmware inventory ---------------------------------------------------------
    async def firmware_inventory(self) -> FirmwareInventory:
        """One $expand request; member by member if the BMC does not expand."""
        collection, document = await self._inventory_collection()
        members = document.get("Members") or []
        if members and all("Version" in m for m in members):
            return parse_inventory(members)
        log.info("redfish inventory without $expand, reading members", host=self.host)
        if not members:
            members = (await self.transport.get_json(collection)).get("Members") or []
        limit = asyncio.Semaphore(_MEMBER_FETCH_CONCURRENCY)

        async def fetch(uri: str) -> dict[str, Any]:
            async with limit:
                return await self.transport.get_json(uri)

        uris = [uri for uri in (link(m) for m in members) if uri]
        bodies = await asyncio.gather(*(fetch(uri) for uri in uris))
        return parse_inventory(list(bodies))

    async def _inventory_collection(self) -> tuple[str, dict[str, Any]]:
        """The FirmwareInventory collection (URI, expanded document): at its DSP0266 URI
        in one request, else wherever the UpdateService links it."""
        service = await self.root_link("UpdateService")
        try:
            uri = f"{service}/FirmwareInventory"
            return uri, await self.transport.get_json(f"{uri}?{EXPAND}")
        except NotFoundError:
            linked = link(await self.transport.get_json(service), "FirmwareInventory")
        if linked is None:
            raise UnsupportedError(
                "the UpdateService links no FirmwareInventory: this BMC reports no firmware "
                "versions",
                host=self.host,
            )
        return linked, await self.transport.get_json(f"{linked}?{EXPAND}")

    # -- updates --------------------------------------------------------------------
    async def update_capabilities(self) -> UpdateCapabilities:
        """SimpleUpdate's parameters, inline or in its ActionInfo (DMTF: either)."""
        service = await self.transport.get_json(await self.root_link("UpdateService"))
        action = dig(service, "Actions", "#UpdateService.SimpleUpdate") or {}
        info_uri = action.get("@Redfish.ActionInfo")
        parameters = {}
        if isinstance(info_uri, str):
            listed = (await self.transport.get_json(info_uri)).get("Parameters") or []
            parameters = {p.get("Name"): p for p in listed if isinstance(p, dict)}
        protocols = action.get("TransferProtocol@Redfish.AllowableValues") or dig(
            parameters, "TransferProtocol", "AllowableValues"
        )
        return UpdateCapabilities(
            simple_update_target=action.get("target"),
            transfer_protocols=protocols,
            apply_times=list(
                dig(action, "@Redfish.OperationApplyTimeSupport", "SupportedValues") or []
            ),
            multipart_push_uri=service.get("MultipartHttpPushUri"),
            targets_required=dig(parameters, "Targets", "Required") is True,
        )

    def _check_apply_time(self, caps: UpdateCapabilities, apply_time: str | None) -> None:
        if apply_time and caps.apply_times and apply_time not in caps.apply_times:
            raise UnsupportedError(
                f"apply time {apply_time!r} not offered (BMC supports {caps.apply_times})",
                host=self.host,
            )

    async def simple_update(
        self,
        image_uri: str,
        *,
        apply_time: str | None = "OnReset",
        targets: list[str] | None = None,
        transfer_protocol: str | None = None,
    ) -> JobRef:
        """SimpleUpdate from a network URI, or from a FirmwareInventory URI (rollback)."""
        caps = await self.update_capabilities()
        if caps.simple_update_target is None:
            raise UnsupportedError("UpdateService offers no SimpleUpdate action", host=self.host)
        body: dict[str, Any] = {"ImageURI": image_uri}
        if not image_uri.startswith("/redfish/"):
            protocol = transfer_protocol or image_uri.split("://", 1)[0].upper()
            if caps.transfer_protocols is None or protocol not in caps.transfer_protocols:
                offered = ", ".join(caps.transfer_protocols or []) or "none listed"
                raise UnsupportedError(
                    f"SimpleUpdate over {protocol} not offered (TransferProtocol values: "
                    f"{offered})",
                    host=self.host,
                )
            body["TransferProtocol"] = protocol
        if caps.targets_required and not targets:
            raise UnsupportedError(
                "this BMC's SimpleUpdate requires Targets (its ActionInfo marks them "
                "Required): name the component to update",
                host=self.host,
            )
        if targets:
            body["Targets"] = targets
        self._check_apply_time(caps, apply_time)
        if apply_time:
            body["@Redfish.OperationApplyTime"] = apply_time
        response = await self.transport.request("POST", caps.simple_update_target, json=body)
        return self._job_ref(response)

    async def push_update(
        self, file: Path, *, apply_time: str | None = "OnReset", targets: list[str] | None = None
    ) -> JobRef:
        """Multipart HTTP push of a local image (MultipartHttpPushUri)."""
        caps = await self.update_capabilities()
        if caps.multipart_push_uri is None:
            raise UnsupportedError(
                "no MultipartHttpPushUri: multipart push unsupported", host=self.host
            )
        self._check_apply_time(caps, apply_time)
        parameters: dict[str, Any] = {"Targets": targets or [], "Oem": {}}
        if apply_time:
            parameters["@Redfish.OperationApplyTime"] = apply_time
        # Streamed from the file; httpx rewinds it if a busy answer makes us send it again.
        with file.open("rb") as image:
            files = {
                "UpdateParameters": (None, json.dumps(parameters), "application/json"),
                "UpdateFile": (file.name, image, "application/octet-stream"),
            }
            response = await self.transport.request("POST", caps.multipart_push_uri, files=files)
        return self._job_ref(response)

    def _job_ref(self, response: httpx.Response) -> JobRef:
        location = response.headers.get("Location")
        if response.status_code != 202 or not location:
            raise RedfishError(
                f"update not accepted: HTTP {response.status_code} without a job Location",
                host=self.host,
                status=response.status_code,
            )
        location = httpx.URL(location).path if location.startswith("http") else location
        # A task monitor's 202 may carry the task (DSP0266): its Id and URI are the job's.
        task = json_body(response)
        task_uri = link(task) if "TaskState" in task else None
        job_id = str(task.get("Id") or "") if task_uri else ""
        ref = JobRef(
            job_id=job_id or location.rstrip("/").rsplit("/", 1)[-1],
            location=location,
            task=task_uri if task_uri != location else None,
        )
        log.info("redfish update job created", host=self.host, job=ref.job_id)
        return ref

    async def wait_for_job(
        self,
        ref: JobRef,
        *,
        stop_at: frozenset[JobStatus] = frozenset(),
        on_progress: ProgressCallback | None = None,
    ) -> JobInfo:
        tracker = JobTracker(self.transport, await self.dell_link("Jobs"), self.options)
        return await tracker.wait(ref, stop_at=stop_at, on_progress=on_progress)

    async def rollback(
        self, component: str, *, apply_time: str | None = "OnReset"
    ) -> tuple[JobRef, FirmwareComponent]:
        """SimpleUpdate to the Previous- image of COMPONENT (id, FQDD or name)."""
        inventory = await self.firmware_inventory()
        previous = inventory.previous()
        if not previous:
            raise UnsupportedError(
                "no Previous- firmware images in the inventory (rollback needs Dell OEM "
                "inventory, or nothing was updated yet)",
                host=self.host,
            )
        image = find_component(previous, component, self.host, "rollback image")
        ref = await self.simple_update(image.uri, apply_time=apply_time)
        return ref, image

    # -- licenses -------------------------------------------------------------------
    async def licenses(self) -> list[IdracLicense] | None:
        """The iDRAC's licenses from the DellLicenses collection its manager links
        (``$expand``: one request); None where it is not there (a non-Dell BMC, iDRAC8)."""
        collection = await self.dell_link("DellLicenseCollection")
        if collection is None:
            return None
        try:
            document = await self.transport.get_json(f"{collection}?{EXPAND}")
        except NotFoundError:
            return None
        members = document.get("Members") or []
        if not all(isinstance(m, dict) and "LicenseDescription" in m for m in members):
            uris = [uri for uri in (link(m) for m in members) if uri]
            members = [await self.transport.get_json(uri) for uri in uris]
        return [_license(m) for m in members]

    # -- job queue ------------------------------------------------------------------
    async def list_jobs(self) -> list[JobInfo]:
        """The Dell job queue; on a generic BMC the TaskService tasks (none without one)."""
        jobs_uri = await self.dell_link("Jobs")
        task_service = link(await self.transport.service_root(), "Tasks")
        if jobs_uri is not None:
            members = (await self.transport.get_json(f"{jobs_uri}?{EXPAND}")).get("Members") or []
            source = "dell-job"
        elif task_service is None:
            return []
        else:
            listing = await self.transport.get_json(f"{task_service}/Tasks")
            uris = [uri for uri in (link(m) for m in listing.get("Members") or []) if uri]
            members = [await self.transport.get_json(uri) for uri in uris]
            source = "task"
        return [job_info(str(m.get("Id")), m, source) for m in members]

    async def clear_job_queue(self, job_id: str | None = None, force: bool = False) -> None:
        """DellJobService.DeleteJobQueue: one job, all (JID_CLEARALL) or forced (restarts LC)."""
        service = await self.dell_link("DellJobService")
        if service is None:
            raise UnsupportedError(
                "no Dell job service: a generic Redfish BMC has no job queue to clear",
                host=self.host,
            )
        target = job_id or ("JID_CLEARALL_FORCE" if force else "JID_CLEARALL")
        action = f"{service}/Actions/DellJobService.DeleteJobQueue"
        await self.transport.request("POST", action, json={"JobID": target})
        log.info("redfish job queue cleared", host=self.host, job=target)

    # -- power ----------------------------------------------------------------------
    async def reset(self, reset_type: str) -> None:
        system = await self.system(refresh=False)
        action = system.get("Actions", {}).get("#ComputerSystem.Reset", {})
        allowed = action.get("ResetType@Redfish.AllowableValues")
        if allowed and reset_type not in allowed:
            raise UnsupportedError(f"ResetType {reset_type!r} not in {allowed}", host=self.host)
        target = action.get("target") or f"{system['@odata.id']}/Actions/ComputerSystem.Reset"
        await self.transport.request("POST", target, json={"ResetType": reset_type})
        log.info("redfish reset requested", host=self.host, reset_type=reset_type)


def _license(member: dict[str, Any]) -> IdracLicense:
    """A DellLicense member; LicenseDescription is a list (dellemc.openmanage license info)."""
    described = member.get("LicenseDescription")
    text = described[0] if isinstance(described, list) and described else described
    return IdracLicense(
        description=str(text or member.get("Id") or "unnamed license"),
        license_type=member.get("LicenseType"),
        primary_status=member.get("LicensePrimaryStatus"),
    )
