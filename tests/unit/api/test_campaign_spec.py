"""The campaign spec accepts a realistic campaign and names the field of every mistake."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import ValidationError

from domain.campaign_spec import (
    MAX_CLUSTERS,
    MAX_HOSTS,
    MAX_SPEC_BYTES,
    AbortRequest,
    CampaignSpec,
    CampaignStartInput,
    no_repeats,
)


def valid() -> dict[str, Any]:
    return {
        "targets": {"clusters": ["prod-a"], "service_tags": ["abc1234"]},
        "firmware": [{"component_id": "159", "version": "2.19.1", "package_id": 1}],
        "windows": [
            {
                "kind": "weekly",
                "timezone": "Europe/Amsterdam",
                "weekdays": [6, 5],
                "start": "22:00",
                "duration_minutes": 360,
            },
            {
                "kind": "once",
                "timezone": "UTC",
                "starts_at": "2026-12-05T22:00:00+01:00",
                "ends_at": "2026-12-06T04:00:00+01:00",
            },
        ],
        "policy": {
            "max_concurrent_per_cluster": 2,
            "min_hosts_online": 3,
            "global_max_concurrent": 8,
            "cluster_failure_threshold": 1,
            "campaign_failure_threshold": 2,
            "on_failure": "rollback",
            "reboot": {"mode": "graceful", "grace_period_s": 300},
            "exit_maintenance_on_success": True,
        },
    }


def test_valid_spec_is_normalised_and_round_trips_through_json() -> None:
    spec = CampaignSpec.model_validate(valid())
    assert spec.targets.service_tags == ["ABC1234"]
    assert spec.windows[0].weekdays == [5, 6]  # type: ignore[union-attr]
    again = CampaignSpec.model_validate_json(spec.model_dump_json())
    assert again == spec
    start = CampaignStartInput(campaign_id=7, spec=spec)
    assert CampaignStartInput.model_validate_json(start.model_dump_json()) == start


def test_defaults_are_the_cautious_ones() -> None:
    spec = CampaignSpec.model_validate(
        {"targets": {"hosts": ["esx01"]}, "firmware": valid()["firmware"]}
    )
    assert spec.policy.max_concurrent_per_cluster == 1
    assert spec.policy.on_failure == "hold"
    assert spec.policy.reboot.mode == "graceful"
    assert spec.windows == []


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    last = keys[-1]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "loc", "message"),
    [
        ("targets", {}, ("targets",), "at least one cluster"),
        ("targets.service_tags", ["TOO-LONG-TAG"], ("targets", "service_tags"), "service tag"),
        ("targets.clusters", ["a", "a"], ("targets", "clusters"), "more than once"),
        ("firmware", [], ("firmware",), "at least 1"),
        ("firmware.0.component_id", "bad id!", ("firmware", 0, "component_id"), "pattern"),
        ("firmware.0.package_id", 0, ("firmware", 0, "package_id"), "greater than or equal"),
        ("windows.0.timezone", "Mars/Olympus", ("windows", 0, "weekly", "timezone"), "IANA"),
        ("windows.0.weekdays", [1, 1], ("windows", 0, "weekly", "weekdays"), "repeat"),
        ("windows.0.weekdays", [7], ("windows", 0, "weekly", "weekdays", 0), "less than"),
        ("windows.0.start", "25:00", ("windows", 0, "weekly", "start"), "time"),
        ("windows.1.ends_at", "2026-12-05T21:00:00+01:00", ("windows", 1, "once"), "after"),
        (
            "windows.1.starts_at",
            "2026-12-05T22:00:00",
            ("windows", 1, "once", "starts_at"),
            "offset",
        ),
        ("windows.0.kind", "monthly", ("windows", 0), "tag"),
        (
            "windows.1.starts_at",
            "0001-01-01T00:01:00+00:04",
            ("windows", 1, "once", "starts_at"),
            "between 1970 and 9989",
        ),
        (
            "windows.1.ends_at",
            "9999-12-31T23:00:00+00:00",
            ("windows", 1, "once", "ends_at"),
            "between 1970 and 9989",
        ),
        ("windows.0.start", "22:00+05:00", ("windows", 0, "weekly", "start"), "UTC offset"),
        ("windows.0.start", 79200, ("windows", 0, "weekly", "start"), "HH:MM"),
        ("policy.max_concurrent_per_cluster", 0, ("policy", "max_concurrent_per_cluster"), ">="),
        ("policy.global_max_concurrent", 0, ("policy", "global_max_concurrent"), ">="),
        ("policy.min_hosts_online", -1, ("policy", "min_hosts_online"), ">="),
        ("policy.on_failure", "panic", ("policy", "on_failure"), "rollback"),
        ("policy.reboot", {"mode": "force", "grace_period_s": 60}, ("policy", "reboot"), "grace"),
        ("policy.reboot.grace_period_s", 4000, ("policy", "reboot", "grace_period_s"), "3600"),
        ("policy.cluster_failure_threshold", 5, ("policy",), "must not exceed"),
        ("policy.typo_field", 1, ("policy", "typo_field"), "Extra inputs"),
    ],
)
def test_each_mistake_names_its_field(
    path: str, value: Any, loc: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        CampaignSpec.model_validate(_set(valid(), path, value))
    errors = caught.value.errors()
    matching = [e for e in errors if tuple(e["loc"]) == loc]
    assert matching, f"no error at {loc}: {[e['loc'] for e in errors]}"
    text = " ".join(e["msg"] for e in matching)
    assert message.lower() in text.lower() or (message == ">=" and "greater than" in text)


def test_spec_is_immutable() -> None:
    spec = CampaignSpec.model_validate(valid())
    with pytest.raises(ValidationError):
        spec.policy.max_concurrent_per_cluster = 9  # type: ignore[misc]


def test_abort_needs_a_reason() -> None:
    with pytest.raises(ValidationError) as caught:
        AbortRequest(reason="")
    assert caught.value.errors()[0]["loc"] == ("reason",)


def test_target_lists_are_bounded_and_named() -> None:
    clusters = [f"c{i}" for i in range(MAX_CLUSTERS + 1)]
    with pytest.raises(ValidationError) as caught:
        CampaignSpec.model_validate(_set(valid(), "targets.clusters", clusters))
    assert caught.value.errors()[0]["loc"] == ("targets", "clusters")
    assert f"at most {MAX_CLUSTERS}" in caught.value.errors()[0]["msg"]


def test_repeats_are_found_in_linear_time_and_reported_by_position() -> None:
    """The defect was time (a quadratic check froze the API 41 s on 40,000 names): 200,000
    names take milliseconds in linear time and hours in quadratic time, so a 5 s bound
    separates the two on any machine without being sensitive to load."""
    names = [f"host-{i}" for i in range(200_000)] + ["host-7"]
    started = time.perf_counter()
    with pytest.raises(ValueError, match="again at position 200000") as caught:
        no_repeats(names, "listed more than once")
    assert time.perf_counter() - started < 5
    assert "host-7" not in str(caught.value)  # never the submitted value


def test_an_oversized_spec_is_refused_saying_why() -> None:
    hosts = [f"{i:05d}-" + "h" * 240 for i in range(MAX_HOSTS)]  # ~1.2 MB of names
    with pytest.raises(ValidationError) as caught:
        CampaignSpec.model_validate(_set(valid(), "targets.hosts", hosts))
    message = caught.value.errors()[0]["msg"]
    assert f"{MAX_SPEC_BYTES}-byte limit" in message and "split" in message
