"""Onboarding validation: the facts read from one iDRAC, and the verdict per check.

Pure: the activity gathers ``IdracFacts``; ``judge`` says which checks pass and why not.
A server whose latest validation failed is held out of campaigns until one passes.
"""

from __future__ import annotations

import csv
import io
import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.discovery import CredentialStatus, Frozen, TlsStatus

VALIDATION_WORKFLOW = "OnboardingValidationWorkflow"
MIN_REDFISH_VERSION = (1, 6, 0)  # SessionService/Sessions, UpdateService with apply times
SUPPORTED_GENERATIONS = frozenset({"iDRAC9", "iDRAC10"})
BATCH_SIZE = 500  # enrollments per validation activity


class Check(StrEnum):
    REACHABLE = "reachable"
    TLS = "tls"
    CREDENTIALS = "credentials"
    REDFISH_VERSION = "redfish_version"
    IDRAC = "idrac"  # generation and firmware
    LICENSE = "license"  # iDRAC license level, where an update path needs one
    LIFECYCLE = "lifecycle_controller"
    JOB_QUEUE = "job_queue"
    FIRMWARE_INVENTORY = "firmware_inventory"
    ESXI_HOST = "esxi_host"


class CheckState(StrEnum):
    PASS = "pass"  # noqa: S105 (a check state, not a password)
    WARN = "warn"  # passes, but the operator should know (a feature it blocks)
    UNKNOWN = "unknown"  # the iDRAC does not say; not held against the server
    FAIL = "fail"  # holds the server out of campaigns


class CheckResult(Frozen):
    check: Check
    ok: bool = Field(description="false only when the check failed (holds the server out)")
    detail: str
    state: CheckState = Field(
        default=CheckState.PASS, description="pass or fail, from ok, if not given"
    )

    @model_validator(mode="before")
    @classmethod
    def _state_from_ok(cls, data: Any) -> Any:
        """Most checks only pass or fail; verdicts stored before states read the same."""
        if isinstance(data, dict) and data.get("state") is None:
            return {**data, "state": CheckState.PASS if data.get("ok") else CheckState.FAIL}
        return data


class IdracLicense(Frozen):
    """One DellLicense member (Managers/iDRAC.Embedded.1/Oem/Dell/DellLicenses)."""

    description: str  # LicenseDescription[0], e.g. "iDRAC9 x5 Enterprise License"
    license_type: str | None = None  # Perpetual, Evaluation, Lease, ...
    primary_status: str | None = None  # LicensePrimaryStatus: OK, Warning, Critical


class InstalledFirmware(Frozen):
    component_id: str
    name: str
    version: str


class IdracFacts(Frozen):
    """What one validation read; None where it could not be read."""

    address: str
    reachable: bool
    tls: TlsStatus | None = None
    credentials: CredentialStatus | None = None
    credential_detail: str | None = None
    credential_profile_id: int | None = None  # the profile that was tried last (or opened it)
    redfish_version: str | None = None
    vendor: str | None = None
    model: str | None = None
    service_tag: str | None = None
    system_id: str | None = None
    generation: str | None = None
    firmware_version: str | None = None
    dell: bool = False
    health: str | None = None
    lc_ready: bool | None = None
    lc_status: str | None = None
    open_jobs: list[str] = Field(default_factory=list)
    inventory: list[InstalledFirmware] | None = None
    licenses: list[IdracLicense] | None = Field(
        default=None, description="None: the iDRAC links no DellLicenses (iDRAC8, non-Dell)"
    )
    error: str | None = Field(default=None, description="why reading stopped early")


def _version(text: str | None) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in (text or "").split(".")[:3])
    except ValueError:
        return None


def _tls(facts: IdracFacts) -> CheckResult:
    verdicts = {
        TlsStatus.TRUSTED: (True, "certificate trusted"),
        TlsStatus.NOT_CHECKED: (True, "not checked (insecure mode, explicit opt-in)"),
        TlsStatus.SELF_SIGNED: (
            False,
            "self-signed certificate: install a CA-signed one "
            "or trust it through IDRAC_ORCH_IDRAC_CA_BUNDLE",
        ),
        TlsStatus.EXPIRED: (False, "certificate expired: renew it on the iDRAC"),
        TlsStatus.NAME_MISMATCH: (False, "certificate does not name this address"),
        TlsStatus.UNTRUSTED: (False, "certificate signed by a CA that is not trusted"),
    }
    ok, detail = verdicts[facts.tls] if facts.tls else (False, "no TLS handshake")
    return CheckResult(check=Check.TLS, ok=ok, detail=detail)


def _idrac(facts: IdracFacts) -> CheckResult:
    firmware = facts.firmware_version or "unknown firmware"
    if not facts.dell:
        return CheckResult(
            check=Check.IDRAC, ok=True, detail=f"generic Redfish BMC ({facts.vendor}), {firmware}"
        )
    if facts.generation in SUPPORTED_GENERATIONS:
        return CheckResult(check=Check.IDRAC, ok=True, detail=f"{facts.generation} {firmware}")
    return CheckResult(
        check=Check.IDRAC,
        ok=False,
        detail=f"{facts.generation or 'unknown generation'} {firmware}: campaigns need "
        f"{' or '.join(sorted(SUPPORTED_GENERATIONS))}",
    )


# Dell iDRAC tiers, lowest first. A tier license's description names it before "License"
# ("iDRAC9 x5 Enterprise License", "iDRAC9 16G Datacenter License"); add-ons such as
# "Secure Enterprise Key Manager" or "OpenManage Enterprise Advanced" name no tier.
LICENSE_TIERS = ("Basic", "Express", "Enterprise", "Datacenter")
_TIER = re.compile(r"\b(Basic|Express|Enterprise|Data ?center)(?: Evaluation)? License\b", re.I)
# What a tier below Enterprise blocks (Dell: idrac_firmware "available only with iDRAC
# Enterprise License"; docs/redfish.md "iDRAC licenses" has the sources).
BELOW_ENTERPRISE = (
    "updates from a repository or network-share catalog (InstallFromRepository, automatic "
    "updates) need Enterprise or Datacenter; single-DUP updates over HTTP still work"
)


def license_tier(licenses: list[IdracLicense]) -> str | None:
    """The highest tier among the licenses in force (LicensePrimaryStatus OK), if any."""
    found = {
        match.group(1).replace(" ", "").capitalize()
        for item in licenses
        if item.primary_status in (None, "OK")
        and (match := _TIER.search(item.description)) is not None
    }
    return next((tier for tier in reversed(LICENSE_TIERS) if tier in found), None)


def _license(facts: IdracFacts) -> CheckResult:
    """Warn, never fail: campaigns hand the iDRAC one DUP at a time (SimpleUpdate), not
    the repository path the license gates."""
    if facts.licenses is None:
        where = "not a Dell iDRAC" if not facts.dell else "no DellLicenses collection (iDRAC8?)"
        return CheckResult(
            check=Check.LICENSE, ok=True, state=CheckState.UNKNOWN, detail=f"not exposed: {where}"
        )
    tier = license_tier(facts.licenses)
    if tier in ("Enterprise", "Datacenter"):
        return CheckResult(check=Check.LICENSE, ok=True, detail=f"iDRAC {tier}")
    return CheckResult(
        check=Check.LICENSE,
        ok=True,
        state=CheckState.WARN,
        detail=f"iDRAC {tier or 'license without a tier in force'}: {BELOW_ENTERPRISE}",
    )


def judge(facts: IdracFacts, esxi_host: str | None, cluster: str | None) -> list[CheckResult]:
    """Every check in report order; a check that could not run says what blocked it."""
    blocked = facts.error or "not reached"
    results = [
        CheckResult(
            check=Check.REACHABLE,
            ok=facts.reachable,
            detail="Redfish service answered" if facts.reachable else blocked,
        ),
        _tls(facts),
        CheckResult(
            check=Check.CREDENTIALS,
            ok=facts.credentials is CredentialStatus.OK,
            detail=facts.credential_detail
            or (facts.credentials.value if facts.credentials else blocked),
        ),
    ]
    version = _version(facts.redfish_version)
    results.append(
        CheckResult(
            check=Check.REDFISH_VERSION,
            ok=version is not None and version >= MIN_REDFISH_VERSION,
            detail=f"Redfish {facts.redfish_version or 'unknown'} (needs 1.6.0 or later)",
        )
    )
    if facts.credentials is not CredentialStatus.OK:
        login = "needs a working login"
        results += [
            CheckResult(check=Check.IDRAC, ok=False, detail=login),
            CheckResult(check=Check.LICENSE, ok=True, state=CheckState.UNKNOWN, detail=login),
        ]
        results += [
            CheckResult(check=c, ok=False, detail=login)
            for c in (Check.LIFECYCLE, Check.JOB_QUEUE, Check.FIRMWARE_INVENTORY)
        ]
    else:
        results += [
            _idrac(facts),
            _license(facts),
            CheckResult(
                check=Check.LIFECYCLE,
                ok=bool(facts.lc_ready),
                detail="ready" if facts.lc_ready else f"not ready ({facts.lc_status or blocked})",
            ),
            CheckResult(
                check=Check.JOB_QUEUE,
                ok=not facts.open_jobs and facts.lc_ready is not None,
                detail="empty"
                if not facts.open_jobs
                else "open jobs: " + "; ".join(facts.open_jobs),
            ),
            CheckResult(
                check=Check.FIRMWARE_INVENTORY,
                ok=bool(facts.inventory),
                detail=f"{len(facts.inventory)} components collected"
                if facts.inventory
                else f"not collected ({blocked})",
            ),
        ]
    linked = bool(esxi_host and cluster)
    results.append(
        CheckResult(
            check=Check.ESXI_HOST,
            ok=linked,
            detail=f"{esxi_host} in cluster {cluster}"
            if linked
            else "no ESXi host and cluster linked (import them with the address)",
        )
    )
    return results


def reason(results: list[CheckResult]) -> str | None:
    """One line naming every failed check, or None when all passed."""
    failed = [f"{r.check.value}: {r.detail}" for r in results if not r.ok]
    return "; ".join(failed) or None


def warnings(results: list[CheckResult]) -> list[str]:
    """What passed with a warning: "license: iDRAC Express: ..."."""
    return [f"{r.check.value}: {r.detail}" for r in results if r.state is CheckState.WARN]


def cell(result: CheckResult) -> str:
    """One check in a report: "ok", or the state in capitals with why."""
    return "ok" if result.state is CheckState.PASS else f"{result.state.upper()}: {result.detail}"


def report_csv(rows: list[dict[str, Any]]) -> str:
    """The report as CSV: a column per check, "ok", "FAIL: why", "WARN: why" or "UNKNOWN: why"."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["address", "service_tag", "server_id", "status", *Check, "reason"])
    for row in rows:
        results = [CheckResult.model_validate(c) for c in row["checks"]]
        checks = {r.check.value: cell(r) for r in results}
        writer.writerow(
            [
                row["address"],
                row["service_tag"] or "",
                row["server_id"] or "",
                row["status"],
                *(checks.get(check.value, "") for check in Check),
                row["reason"] or "",
            ]
        )
    return out.getvalue()


def held_reason(reason: str | None) -> str:
    """Why a campaign leaves a server out (the plan activity and the dry run say the same)."""
    return f"held out until onboarding validation passes ({reason or 'validation failed'})"


# --- workflow I/O ------------------------------------------------------------------------


class ValidationRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    enrollment_ids: list[int] | None = Field(
        default=None, max_length=100_000, description="default: every enrollment"
    )
    discovery_run_id: int | None = Field(
        default=None, ge=1, description="only the enrollments this discovery found answering"
    )


class ValidationBatch(Frozen):
    enrollment_ids: list[int]


class ValidationSummary(Frozen):
    validated: int
    passed: int
    failed: int
