"""Windows per site: a cluster is gated only by the windows that apply to it, read in its
site's timezone where the window says so, across DST transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.campaign_spec import OneOffWindow, WeeklyWindow
from domain.rollout import ClusterInventory, PlanRequest, plan_rollout
from domain.site_windows import in_datacenter, windows_for
from domain.windows import fits, parse_windows
from tests.unit.domain.test_rollout import TARGET, host

SITES = {
    "ams": "Europe/Amsterdam",
    "nyc": "America/New_York",
    "syd": "Australia/Sydney",  # DST in the other half of the year
    "bom": "Asia/Kolkata",  # no DST, a half-hour offset
}
SATURDAY_NIGHT = {"weekdays": [5], "start": "22:00", "duration_minutes": 360}


def _weekly(**fields: object) -> WeeklyWindow:
    return WeeklyWindow.model_validate({**SATURDAY_NIGHT, **fields})


def test_scope_and_site_time() -> None:
    windows = [
        _weekly(timezone="Europe/Amsterdam", datacenters=["ams"]),
        _weekly(timezone="site", clusters=["nyc-prod"]),
    ]
    ams = windows_for(windows, datacenter="ams", site_timezone=SITES["ams"], cluster="ams-prod")
    assert [(w.timezone, w.datacenters) for w in ams] == [("Europe/Amsterdam", [])]
    nyc = windows_for(windows, datacenter="nyc", site_timezone=SITES["nyc"], cluster="nyc-prod")
    assert [w.timezone for w in nyc] == ["America/New_York"]
    assert windows_for(windows, datacenter="nyc", site_timezone=SITES["nyc"], cluster="x") == []


def test_site_time_is_never_guessed_for_a_host_without_a_site() -> None:
    windows = [_weekly(timezone="site")]
    assert windows_for(windows, datacenter="", site_timezone=None, cluster="c") == []


def test_a_stored_window_keeps_gating_its_own_datacenter_only() -> None:
    stored = _weekly(timezone="Europe/Amsterdam")
    scoped = in_datacenter(stored, "ams")
    assert scoped.applies_to("ams", "any") and not scoped.applies_to("nyc", "any")
    assert in_datacenter(stored, None) == stored


window_specs = st.one_of(
    st.builds(
        dict,
        kind=st.just("weekly"),
        timezone=st.sampled_from(["site", *SITES.values()]),
        weekdays=st.lists(st.integers(0, 6), min_size=1, max_size=3, unique=True),
        start=st.sampled_from(["00:30", "02:00", "02:30", "03:00", "21:00", "22:00", "23:30"]),
        duration_minutes=st.integers(60, 600),
        datacenters=st.lists(st.sampled_from(sorted(SITES)), max_size=2, unique=True),
        clusters=st.lists(st.sampled_from([f"{s}-prod" for s in SITES]), max_size=2, unique=True),
    ),
    st.builds(
        lambda start, hours, dcs: {
            "kind": "once",
            "timezone": "site",
            "starts_at": start,
            "ends_at": start + timedelta(hours=hours),
            "datacenters": dcs,
        },
        st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC)),
        st.integers(2, 48),
        st.lists(st.sampled_from(sorted(SITES)), max_size=2, unique=True),
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    specs=st.lists(window_specs, min_size=1, max_size=4),
    now=st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC)),
    sizes=st.lists(st.integers(1, 3), min_size=len(SITES), max_size=len(SITES)),
)
# The spring-forward and fall-back weekends of Amsterdam and New York.
@example(
    specs=[{**SATURDAY_NIGHT, "kind": "weekly", "timezone": "site", "weekdays": [5, 6]}],
    now=datetime(2026, 3, 28, 12, 0, tzinfo=UTC),
    sizes=[3, 3, 3, 3],
)
@example(
    specs=[{**SATURDAY_NIGHT, "kind": "weekly", "timezone": "site", "start": "02:30"}],
    now=datetime(2026, 10, 31, 12, 0, tzinfo=UTC),
    sizes=[2, 2, 2, 2],
)
def test_no_host_is_planned_outside_a_window_of_its_own_cluster(
    specs: list[dict[str, object]], now: datetime, sizes: list[int]
) -> None:
    windows = [
        (WeeklyWindow if spec["kind"] == "weekly" else OneOffWindow).model_validate(spec)
        for spec in specs
    ]
    clusters, gates = [], {}
    for (site, zone), size in zip(sorted(SITES.items()), sizes, strict=True):
        name = f"{site}-prod"
        gating = windows_for(windows, datacenter=site, site_timezone=zone, cluster=name)
        if not gating:  # the plan leaves such a cluster out, never "any time"
            continue
        gates[name] = parse_windows(gating)
        clusters.append(
            ClusterInventory(
                name=name,
                max_concurrent=1,
                hosts=[
                    host(f"{site}{i}", i, "2.18.1", "7.00.00.00", f"{site}{i}") for i in range(size)
                ],
                windows=gates[name],
                site_timezone=zone,
            )
        )
    if not clusters:
        return
    plan = plan_rollout(PlanRequest(clusters=clusters, target=TARGET, global_max_concurrent=3), now)
    for cluster in plan.clusters:
        for planned in cluster.hosts:
            start = now + planned.start
            assert fits(gates[cluster.name], start, planned.end - planned.start), (
                f"{planned.name} of {cluster.name} planned {start} .. {now + planned.end} "
                f"outside its windows"
            )
