"""One vcsim for the vCenter tests, serving a fleet built here with one cluster per
scenario, on 127.0.0.2 with a certificate from a CA the tests generate (pyvmomi skips
verification for 127.0.0.1, so verification is only really exercised elsewhere)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from integrations.vcenter import VCenterClient, VCenterSettings
from simulators.fleet import Fleet
from simulators.vcsim.harness import VcsimProcess
from tests.services.ports import free_port

ADDRESS = "127.0.0.2"
GIB = 1024


def _host(name: str, tag: str, vms: list[dict[str, object]], **extra: object) -> dict[str, object]:
    spec = {"name": name, "service_tag": tag, "cpu_cores": 10, "cpu_mhz": 2000}
    return {**spec, "memory_mb": 64 * GIB, "vms": vms, **extra}


def _vms(prefix: str, count: int, memory_mb: int = 8 * GIB, **extra: object) -> list[dict]:
    return [{"name": f"{prefix}-{i}", "memory_mb": memory_mb, **extra} for i in range(count)]


def _cluster(name: str, tag: str, hosts: int, vms_per_host: int, **config: object) -> dict:
    members = [
        _host(f"{name}-{i}.test", f"{tag}{i:04d}", _vms(f"{name}-{i}-vm", vms_per_host))
        for i in range(1, hosts + 1)
    ]
    return {"name": name, "hosts": members, **config}


NO_HA = {"enabled": False, "admission_control": "none"}
AUTO = {"enabled": True, "automation": "fullyAutomated"}


def evacuation_clusters() -> list[dict]:
    """DRS manual with a dedicated HA failover host, and DRS off (test_evacuation.py)."""
    manual = _cluster("manual", "MNL", 4, 0, drs={"enabled": True, "automation": "manual"})
    manual["ha"] = {"enabled": True, "admission_control": "failover_hosts", "failover_hosts": 1}
    manual["hosts"][0]["vms"] = [
        {"name": "big", "memory_mb": 30 * GIB},
        *({"name": name, "memory_mb": 8 * GIB} for name in ("db-0", "web-0", "web-1")),
    ]
    manual["hosts"][1]["vms"] = [{"name": "resident-2", "memory_mb": 40 * GIB}]
    manual["hosts"][2]["vms"] = [{"name": "resident-3", "memory_mb": 8 * GIB}]
    off = _cluster("drs-off", "OFF", 3, 0, drs={"enabled": False}, ha=NO_HA)
    for host in off["hosts"]:
        host["memory_mb"] = 32 * GIB
    off["hosts"][0]["vms"] = [
        {"name": "local-db", "local_storage": True},
        {"name": "app-1", "memory_mb": 8 * GIB},
    ]
    off["hosts"][1]["vms"] = [{"name": "huge", "memory_mb": 30 * GIB}]
    off["hosts"][2]["vms"] = [{"name": "app-3", "memory_mb": 8 * GIB}]
    return [manual, off]


def scenario_fleet() -> Fleet:
    """Each test owns one cluster, so tests that change state do not meet."""
    blockers = _cluster("blockers", "BLK", 3, 0, drs=AUTO, ha=NO_HA)
    blockers["hosts"][0]["vms"] = [
        {"name": "gpu-vm", "passthrough": True},
        {"name": "local-vm", "local_storage": True},
        {"name": "pinned-vm", "pinned_to_host": True},
        {"name": "free-vm"},
    ]
    reservations = {"cpu_reservation_mhz": 1000}
    ha_one = _cluster("ha-one", "HAO", 3, 0, drs=AUTO)
    ha_one["ha"] = {"enabled": True, "admission_control": "failover_hosts", "failover_hosts": 1}
    for i, host in enumerate(ha_one["hosts"], start=1):
        host["vms"] = _vms(f"ha-one-{i}-vm", 2, **reservations)
    percent = _cluster("percent", "PCT", 4, 0, drs=AUTO)
    percent["ha"] = {
        "enabled": True,
        "admission_control": "percentage",
        "cpu_failover_percent": 50,
        "memory_failover_percent": 50,
    }
    for i, host in enumerate(percent["hosts"], start=1):
        host["memory_mb"] = 100 * GIB
        host["vms"] = _vms(f"percent-{i}-vm", 3, memory_mb=10 * GIB)
    clusters = [
        _cluster("drs-auto", "AUT", 3, 2, drs=AUTO, ha=NO_HA),
        _cluster(
            "drs-manual", "MAN", 2, 1, drs={"enabled": True, "automation": "manual"}, ha=NO_HA
        ),
        _cluster("single", "SGL", 1, 1, drs=AUTO, ha=NO_HA),
        _cluster("faults", "FLT", 3, 1, drs=AUTO, ha=NO_HA),
        _cluster("reboot", "RBT", 2, 0, drs=AUTO, ha=NO_HA),
        _cluster("session", "SES", 1, 0, drs=AUTO, ha=NO_HA),
        _cluster("retry", "RTY", 2, 1, drs=AUTO, ha=NO_HA),
        _cluster("harness", "HRN", 2, 1, drs=AUTO, ha=NO_HA),
        blockers,
        ha_one,
        percent,
        *evacuation_clusters(),
    ]
    clusters[0]["hosts"][0]["management_ip"] = "127.0.0.51"
    return Fleet.model_validate({"datacenters": [{"name": "dc-test", "clusters": clusters}]})


def _write_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.2 signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idrac-orch test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ADDRESS)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ADDRESS))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture(scope="session")
def ca_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return _write_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def scenario_vcsim(ca_bundle: tuple[Path, Path, Path]) -> Iterator[VcsimProcess]:
    _, cert, key = ca_bundle
    process = VcsimProcess(
        scenario_fleet(), host=ADDRESS, port=free_port(ADDRESS), tls_cert=cert, tls_key=key
    )
    with process:
        yield process


def settings_for(process: VcsimProcess, ca: Path | None, **extra: object) -> VCenterSettings:
    login = process.fleet.vcenter
    return VCenterSettings(
        url=f"https://{process.host}:{process.port}/sdk",
        username=login.username,
        password=SecretStr(login.password),
        ca_bundle=ca,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def vcenter(scenario_vcsim: VcsimProcess, ca_bundle: tuple[Path, ...]) -> Iterator[VCenterClient]:
    """A verified session to the scenario vcsim; faults are cleared after each test."""
    with VCenterClient(settings_for(scenario_vcsim, ca_bundle[0])) as client:
        yield client
    scenario_vcsim.clear_faults()
