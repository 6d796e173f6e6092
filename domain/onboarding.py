"""Onboarding validation: the facts read from one iDRAC, and the verdict per check.

Pure: the activity gathers ``IdracFacts``; ``judge`` says which checks pass and why not.
A server whose latest validation failed is held out of campaigns until one passes.
"""

from __future__ import annotations

import csv
import io
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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
    LIFECYCLE = "lifecycle_controller"
    JOB_QUEUE = "job_queue"
    FIRMWARE_INVENTORY = "firmware_inventory"
    ESXI_HOST = "esxi_host"


class CheckResult(Frozen):
    check: Check
    ok: bool
    detail: str


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
            CheckResult(check=c, ok=False, detail=login)
            for c in (Check.IDRAC, Check.LIFECYCLE, Check.JOB_QUEUE, Check.FIRMWARE_INVENTORY)
        ]
    else:
        results += [
            _idrac(facts),
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


def report_csv(rows: list[dict[str, Any]]) -> str:
    """The report as CSV: a column per check, "ok" or "FAIL: why"."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["address", "service_tag", "server_id", "status", *Check, "reason"])
    for row in rows:
        checks = {c["check"]: ("ok" if c["ok"] else f"FAIL: {c['detail']}") for c in row["checks"]}
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
