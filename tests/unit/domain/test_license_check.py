"""The license check of onboarding validation: which tier is in force, and its verdict."""

from __future__ import annotations

import pytest

from domain.discovery import CredentialStatus
from domain.onboarding import (
    Check,
    CheckResult,
    CheckState,
    IdracFacts,
    IdracLicense,
    judge,
    license_tier,
    reason,
)


def _license(description: str, status: str | None = "OK") -> IdracLicense:
    return IdracLicense(description=description, license_type="Perpetual", primary_status=status)


@pytest.mark.parametrize(
    ("descriptions", "tier"),
    [
        (["iDRAC9 x5 Enterprise License"], "Enterprise"),
        (["iDRAC9 16G Datacenter License"], "Datacenter"),
        (["iDRAC9 x5 Express License"], "Express"),
        (["iDRAC7 Enterprise License"], "Enterprise"),
        (["iDRAC9 x5 Enterprise Evaluation License"], "Enterprise"),
        (["iDRAC9 x5 Express License", "iDRAC9 x5 Datacenter License"], "Datacenter"),
        # Add-ons name no tier.
        (["iDRAC9 Secure Enterprise Key Manager License"], None),
        (["OpenManage Enterprise Advanced License", "iDRAC9 Express License"], "Express"),
        ([], None),
    ],
)
def test_tier_is_the_highest_named_before_license(descriptions: list[str], tier: str | None):
    assert license_tier([_license(d) for d in descriptions]) == tier


def test_a_license_not_in_force_does_not_count() -> None:
    expired = _license("iDRAC9 x5 Enterprise Evaluation License", status="Critical")
    assert license_tier([expired, _license("iDRAC9 x5 Express License")]) == "Express"


def _facts(licenses: list[IdracLicense] | None, dell: bool = True) -> IdracFacts:
    return IdracFacts(
        address="127.0.0.1",
        reachable=True,
        credentials=CredentialStatus.OK,
        dell=dell,
        generation="iDRAC9",
        licenses=licenses,
    )


def _license_check(facts: IdracFacts) -> CheckResult:
    return next(r for r in judge(facts, "esx", "c") if r.check is Check.LICENSE)


def test_enterprise_and_datacenter_pass() -> None:
    result = _license_check(_facts([_license("iDRAC9 16G Datacenter License")]))
    assert (result.state, result.ok, result.detail) == (CheckState.PASS, True, "iDRAC Datacenter")


def test_express_warns_naming_what_it_blocks_and_holds_nothing() -> None:
    results = judge(_facts([_license("iDRAC9 x5 Express License")]), "esx", "c")
    result = next(r for r in results if r.check is Check.LICENSE)
    assert result.state is CheckState.WARN and result.ok
    assert result.detail.startswith("iDRAC Express: updates from a repository")
    assert "single-DUP updates over HTTP still work" in result.detail
    assert "license" not in (reason(results) or "")


@pytest.mark.parametrize(
    ("facts", "detail"),
    [
        (_facts(None, dell=False), "not exposed: not a Dell iDRAC"),
        (_facts(None), "not exposed: no DellLicenses collection (iDRAC8?)"),
    ],
)
def test_not_exposed_is_unknown(facts: IdracFacts, detail: str) -> None:
    result = _license_check(facts)
    assert (result.state, result.ok, result.detail) == (CheckState.UNKNOWN, True, detail)


def test_without_a_login_the_license_is_unknown() -> None:
    facts = IdracFacts(address="127.0.0.1", reachable=True, credentials=CredentialStatus.REJECTED)
    result = _license_check(facts)
    assert (result.state, result.detail) == (CheckState.UNKNOWN, "needs a working login")


def test_verdicts_stored_before_states_read_as_pass_or_fail() -> None:
    stored = {"check": "tls", "ok": False, "detail": "certificate expired"}
    assert CheckResult.model_validate(stored).state is CheckState.FAIL
    assert CheckResult.model_validate({**stored, "ok": True}).state is CheckState.PASS
