"""The inventory in one PropertyCollector read, turned into plain models: the whole
vCenter (`read_inventory`) or just the cluster around one host or cluster (`read_scope`).

VirtualMachine.resourceConfig is deliberately not read: reservations come from
summary.config (vcsim 0.24's PropertyCollector dies on resourceConfig).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pyVmomi import vim

from domain.evacuation import VmHostRule, VmVmRule
from integrations.vcenter.bulk import ScalarObject
from integrations.vcenter.client import VCenterClient, ViewRead, props_of
from integrations.vcenter.errors import NotFoundError
from integrations.vcenter.models import (
    ClusterInfo,
    DatacenterInfo,
    DrsInfo,
    HaInfo,
    HostInfo,
    Inventory,
    VmInfo,
)
from integrations.vcenter.tracing import traced

MIB = 1024 * 1024

# Complex values (systemInfo, configurationEx, vnics) go through pyvmomi's types.
PATHS: dict[type, list[str]] = {
    vim.Folder: ["name", "parent"],
    vim.Datacenter: ["name", "parent"],
    vim.ClusterComputeResource: ["name", "parent", "configurationEx", "resourcePool"],
    vim.HostSystem: [
        "name",
        "parent",
        "runtime.connectionState",
        "runtime.powerState",
        "runtime.inMaintenanceMode",
        "hardware.systemInfo",
        "summary.hardware.cpuMhz",
        "summary.hardware.numCpuCores",
        "summary.hardware.memorySize",
        "config.network.vnic",
    ],
}

# Thousands of VMs with scalar values only: read by the fast scalar reader.
VM_PATHS: dict[type, list[str]] = {
    vim.VirtualMachine: [
        "name",
        "runtime.host",
        "runtime.powerState",
        "summary.config.numCpu",
        "summary.config.memorySizeMB",
        "summary.config.cpuReservation",
        "summary.config.memoryReservation",
        "summary.quickStats.overallCpuUsage",
        "summary.quickStats.guestMemoryUsage",
    ],
}


# Names and parents of the tree above the VMs: enough to find where a host or cluster is.
TREE_PATHS: dict[type, list[str]] = {
    kind: ["name", "parent"] for kind in (vim.Folder, vim.Datacenter, vim.ComputeResource)
}
SKELETON_PATHS: dict[type, list[str]] = {**TREE_PATHS, vim.HostSystem: ["name", "parent"]}

ByKind = dict[type, dict[str, dict[str, Any]]]


def read_inventory(client: VCenterClient) -> Inventory:
    by_kind: ByKind = defaultdict(dict)
    _add(by_kind, client.retrieve_view(PATHS, VM_PATHS))
    return _assemble(by_kind)


@traced("read scope")
def read_scope(client: VCenterClient, *, host: str = "", cluster: str = "") -> Inventory:
    """The inventory cut down to the cluster (or standalone host) that holds the host
    named ``host``, or to the cluster named ``cluster``: every datacenter, that one
    cluster with all its hosts and VMs, nothing else.

    A call about one host must not cost a read of every host and VM in vCenter: that
    grows with the fleet and made pyVmomi's parsing the worker's bottleneck. A name
    that is no host or no single cluster (a service tag, a name used twice) falls back
    to the whole inventory, so lookups behave exactly as with `read_inventory`.

    Scoped hosts come without identity (service tag, vendor, model, management IP):
    maintenance, preflight and capacity decide on state and resources only.
    """
    skeleton = client.retrieve_view({}, SKELETON_PATHS if host else TREE_PATHS).scalars
    root = _scope_root(skeleton, host, cluster)
    if root is None:
        return read_inventory(client)
    by_kind: ByKind = defaultdict(dict)
    for obj in skeleton:
        if obj.kind in ("Folder", "Datacenter"):
            by_kind[getattr(vim, obj.kind)][obj.moid] = obj.props
    if root.kind == "ClusterComputeResource":
        ref = client.managed_object(vim.ClusterComputeResource, root.moid)
        found = client.retrieve_objects([ref], vim.ClusterComputeResource, _CLUSTER_PATHS)
        by_kind[vim.ClusterComputeResource][root.moid] = {**root.props, **props_of(found[0])}
    else:
        ref = client.managed_object(vim.ComputeResource, root.moid)
    _add(by_kind, client.retrieve_view({}, {**_DECISION_PATHS, **VM_PATHS}, ref))
    return _assemble(by_kind)


@traced("find host")
def host_moid(client: VCenterClient, name: str) -> str:
    """The host named ``name`` (or carrying that service tag). A step about one host
    needs no cluster read: a unique host name is found from the names alone."""
    names = client.retrieve_view({}, {vim.HostSystem: ["name"]}).scalars
    found = [o.moid for o in names if o.props.get("name") == name]
    if len(found) == 1:
        return found[0]
    return find_host(read_scope(client, host=name), name)[0].moid


def _add(by_kind: ByKind, read: ViewRead) -> None:
    for obj in read.objects:
        by_kind[_kind(obj.obj)][obj.obj._moId] = props_of(obj)
    for scalar in read.scalars:
        by_kind[getattr(vim, scalar.kind)][scalar.moid] = scalar.props


_CLUSTER_PATHS = [p for p in PATHS[vim.ClusterComputeResource] if p not in ("name", "parent")]
# Decisions need hosts' state and resources, not their identity. Without the two complex
# identity properties a host has only scalars, read by the fast scalar reader: a scoped
# read of a 28-host cluster took 40 ms of CPU in pyVmomi's parser, now 9 ms.
_IDENTITY_PATHS = ("hardware.systemInfo", "config.network.vnic")
_DECISION_PATHS = {vim.HostSystem: [p for p in PATHS[vim.HostSystem] if p not in _IDENTITY_PATHS]}


def _scope_root(skeleton: list[ScalarObject], host: str, cluster: str) -> ScalarObject | None:
    """The compute resource to read: the named cluster, or the host's parent."""
    if host:
        parents = [
            o.props.get("parent")
            for o in skeleton
            if o.kind == "HostSystem" and o.props.get("name") == host
        ]
        wanted = {parents[0]} if len(parents) == 1 else set()
        matches = [o for o in skeleton if o.moid in wanted and "ComputeResource" in o.kind]
    else:
        matches = [
            o
            for o in skeleton
            if o.kind == "ClusterComputeResource" and o.props.get("name") == cluster
        ]
    return matches[0] if len(matches) == 1 else None


def _kind(obj: Any) -> type:
    return next(kind for kind in PATHS if isinstance(obj, kind))


def _moid(reference: Any) -> str:
    """A parent as the scalar reader gives it (a moid) or as pyVmomi does (an object)."""
    return reference if isinstance(reference, str) else reference._moId


def _assemble(by_kind: ByKind) -> Inventory:
    parents = {
        moid: props.get("parent")
        for kind in (vim.Folder, vim.Datacenter, vim.ClusterComputeResource, vim.HostSystem)
        for moid, props in by_kind[kind].items()
    }
    dc_names = {moid: p["name"] for moid, p in by_kind[vim.Datacenter].items()}

    def datacenter_of(moid: str) -> str | None:
        seen = 0
        while moid and seen < 64:  # folders nest; the bound only guards against a cycle
            if moid in dc_names:
                return dc_names[moid]
            parent = parents.get(moid)
            moid = _moid(parent) if parent is not None else ""
            seen += 1
        return None

    host_names = {moid: p["name"] for moid, p in by_kind[vim.HostSystem].items()}
    vm_names = {moid: p["name"] for moid, p in by_kind[vim.VirtualMachine].items()}
    vms_by_host: dict[str, list[VmInfo]] = defaultdict(list)
    for moid, props in by_kind[vim.VirtualMachine].items():
        vm = _vm(moid, props, host_names)
        vms_by_host[vm.host or ""].append(vm)

    cluster_names = {moid: p["name"] for moid, p in by_kind[vim.ClusterComputeResource].items()}
    hosts_by_cluster: dict[str | None, list[HostInfo]] = defaultdict(list)
    for moid, props in by_kind[vim.HostSystem].items():
        parent = props.get("parent")
        cluster = cluster_names.get(_moid(parent)) if parent is not None else None
        host = _host(moid, props, cluster, datacenter_of(moid), vms_by_host[props["name"]])
        hosts_by_cluster[cluster].append(host)

    clusters_by_dc: dict[str | None, list[ClusterInfo]] = defaultdict(list)
    for moid, props in by_kind[vim.ClusterComputeResource].items():
        cluster = _cluster(
            moid, props, datacenter_of(moid), hosts_by_cluster[props["name"]], host_names, vm_names
        )
        clusters_by_dc[cluster.datacenter].append(cluster)

    standalone: dict[str | None, list[HostInfo]] = defaultdict(list)
    for host in hosts_by_cluster[None]:
        standalone[host.datacenter].append(host)
    return Inventory(
        datacenters=[
            DatacenterInfo(
                name=name,
                clusters=sorted(clusters_by_dc[name], key=lambda c: c.name),
                standalone_hosts=sorted(standalone[name], key=lambda h: h.name),
            )
            for name in sorted(dc_names.values())
        ]
    )


def _vm(moid: str, props: dict[str, Any], host_names: dict[str, str]) -> VmInfo:
    host = props.get("runtime.host")  # the scalar reader gives a reference as its moid
    return VmInfo(
        name=props["name"],
        moid=moid,
        host=host_names.get(host) if host else None,
        power_state=str(props.get("runtime.powerState") or "unknown"),
        num_cpu=props.get("summary.config.numCpu") or 0,
        memory_mb=props.get("summary.config.memorySizeMB") or 0,
        cpu_reservation_mhz=props.get("summary.config.cpuReservation") or 0,
        memory_reservation_mb=props.get("summary.config.memoryReservation") or 0,
        cpu_usage_mhz=props.get("summary.quickStats.overallCpuUsage") or 0,
        memory_usage_mb=props.get("summary.quickStats.guestMemoryUsage") or 0,
    )


def service_tag(system_info: Any) -> str | None:
    """Dell puts the service tag in otherIdentifyingInfo (ServiceTag); else the serial."""
    for ident in getattr(system_info, "otherIdentifyingInfo", None) or []:
        key = getattr(ident.identifierType, "key", None)
        if key == "ServiceTag" and ident.identifierValue:
            return ident.identifierValue.strip()
    serial = getattr(system_info, "serialNumber", None)
    return serial.strip() if serial else None


def _management_ip(vnics: Any) -> str | None:
    for vnic in vnics or []:
        address = getattr(getattr(vnic.spec, "ip", None), "ipAddress", None)
        if address:
            return address
    return None


def _host(
    moid: str, props: dict[str, Any], cluster: str | None, datacenter: str | None, vms: list[VmInfo]
) -> HostInfo:
    info = props.get("hardware.systemInfo")
    return HostInfo(
        name=props["name"],
        moid=moid,
        datacenter=datacenter,
        cluster=cluster,
        service_tag=service_tag(info) if info else None,
        vendor=getattr(info, "vendor", None),
        model=getattr(info, "model", None),
        connection_state=str(props.get("runtime.connectionState") or "unknown"),
        power_state=str(props.get("runtime.powerState") or "unknown"),
        in_maintenance=bool(props.get("runtime.inMaintenanceMode")),
        management_ip=_management_ip(props.get("config.network.vnic")),
        cpu_cores=props.get("summary.hardware.numCpuCores") or 0,
        cpu_mhz_per_core=props.get("summary.hardware.cpuMhz") or 0,
        memory_mb=(props.get("summary.hardware.memorySize") or 0) // MIB,
        vms=sorted(vms, key=lambda vm: vm.name),
    )


def _cluster(
    moid: str,
    props: dict[str, Any],
    datacenter: str | None,
    hosts: list[HostInfo],
    host_names: dict[str, str],
    vm_names: dict[str, str],
) -> ClusterInfo:
    config = props.get("configurationEx")
    drs = getattr(config, "drsConfig", None)
    pool = props.get("resourcePool")
    return ClusterInfo(
        name=props["name"],
        moid=moid,
        resource_pool_moid=pool._moId if pool is not None else None,
        datacenter=datacenter,
        drs=DrsInfo(
            enabled=bool(getattr(drs, "enabled", False)),
            automation=str(drs.defaultVmBehavior) if drs and drs.defaultVmBehavior else None,
        ),
        ha=_ha(getattr(config, "dasConfig", None), host_names),
        host_rules=_host_rules(config, host_names, vm_names),
        vm_rules=_vm_rules(config, vm_names),
        hosts=sorted(hosts, key=lambda h: h.name),
    )


def _ha(das: Any, host_names: dict[str, str]) -> HaInfo:
    enabled = bool(getattr(das, "enabled", False))
    admission = enabled and bool(getattr(das, "admissionControlEnabled", False))
    policy = getattr(das, "admissionControlPolicy", None) if admission else None
    if isinstance(policy, vim.cluster.FailoverHostAdmissionControlPolicy):
        names = [host_names.get(h._moId, h._moId) for h in policy.failoverHosts or []]
        return HaInfo(
            enabled=enabled,
            admission_control_enabled=True,
            policy="failover_hosts",
            failover_hosts=names,
        )
    if isinstance(policy, vim.cluster.FailoverLevelAdmissionControlPolicy):
        return HaInfo(
            enabled=enabled,
            admission_control_enabled=True,
            policy="failover_level",
            failover_level=policy.failoverLevel or 0,
        )
    if isinstance(policy, vim.cluster.FailoverResourcesAdmissionControlPolicy):
        return HaInfo(
            enabled=enabled,
            admission_control_enabled=True,
            policy="percentage",
            cpu_failover_percent=policy.cpuFailoverResourcesPercent or 0,
            memory_failover_percent=policy.memoryFailoverResourcesPercent or 0,
        )
    return HaInfo(enabled=enabled, admission_control_enabled=admission)


def _host_rules(
    config: Any, host_names: dict[str, str], vm_names: dict[str, str]
) -> list[VmHostRule]:
    """Enabled VM-host rules: a VM group on (or off) a host group, must or should."""
    groups = {g.name: g for g in getattr(config, "group", None) or []}
    rules = []
    for rule in getattr(config, "rule", None) or []:
        if not isinstance(rule, vim.cluster.VmHostRuleInfo) or not rule.enabled:
            continue
        vm_group = groups.get(rule.vmGroupName)
        affine = bool(rule.affineHostGroupName)
        host_group = groups.get(rule.affineHostGroupName or rule.antiAffineHostGroupName or "")
        if vm_group is None or host_group is None:
            continue
        rules.append(
            VmHostRule(
                name=rule.name or f"rule {rule.key}",
                vms=frozenset(vm_names.get(vm._moId, vm._moId) for vm in vm_group.vm or []),
                hosts=frozenset(host_names.get(h._moId, h._moId) for h in host_group.host or []),
                affine=affine,
                mandatory=bool(rule.mandatory),
            )
        )
    return rules


def _vm_rules(config: Any, vm_names: dict[str, str]) -> list[VmVmRule]:
    """Enabled VM-VM rules: keep together (affinity) or apart (anti-affinity)."""
    kinds = {vim.cluster.AffinityRuleSpec: True, vim.cluster.AntiAffinityRuleSpec: False}
    rules = []
    for rule in getattr(config, "rule", None) or []:
        together = next((v for kind, v in kinds.items() if isinstance(rule, kind)), None)
        if together is None or not rule.enabled:
            continue
        rules.append(
            VmVmRule(
                name=rule.name or f"rule {rule.key}",
                vms=frozenset(vm_names.get(vm._moId, vm._moId) for vm in rule.vm or []),
                together=together,
            )
        )
    return rules


def find_host(inventory: Inventory, name: str) -> tuple[HostInfo, ClusterInfo | None]:
    host = inventory.host(name)
    if host is None:
        raise NotFoundError(f"no host named {name!r} (host name or service tag)")
    return host, inventory.cluster_of(host)
