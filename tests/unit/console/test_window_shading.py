"""The windows a timeline shades: per cluster, as the plan gates it, in site local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.window_shading import shading, spec_windows

NOW = datetime(2026, 12, 5, 13, 30, tzinfo=UTC)  # 14:30 in Amsterdam
SITES = {"alpha": ("dc-ams", "Europe/Amsterdam"), "nyc-1": ("dc-nyc", "America/New_York")}


def test_site_time_windows_are_read_in_each_sites_zone_and_labelled_in_it() -> None:
    daily = {"kind": "weekly", "timezone": "site", "weekdays": list(range(7))}
    windows = spec_windows({"windows": [{**daily, "start": "14:00", "duration_minutes": 60}]})
    shaded = shading(windows, SITES, NOW - timedelta(hours=1), NOW)
    [open_now, tomorrow] = shaded["alpha"]
    assert open_now == {
        "start": "2026-12-05T13:00:00+00:00",
        "end": "2026-12-05T14:00:00+00:00",
        "label": "window 2026-12-05 14:00 Europe/Amsterdam to 2026-12-05 15:00 Europe/Amsterdam",
    }
    assert tomorrow["start"] == "2026-12-06T13:00:00+00:00"  # the next one, kept
    # New York's 14:00 is 19:00 UTC: the next one to open there, in its own time.
    assert shaded["nyc-1"] == [
        {
            "start": "2026-12-05T19:00:00+00:00",
            "end": "2026-12-05T20:00:00+00:00",
            "label": "window 2026-12-05 14:00 America/New_York to "
            "2026-12-05 15:00 America/New_York",
        }
    ]


def test_scoped_windows_shade_only_their_clusters_and_no_windows_shade_nothing() -> None:
    window = {
        "kind": "weekly",
        "timezone": "UTC",
        "weekdays": [5],
        "start": "20:00",
        "duration_minutes": 60,
        "clusters": ["alpha"],
    }
    shaded = shading(spec_windows({"windows": [window]}), SITES, NOW, NOW)
    assert [w["label"] for w in shaded["alpha"]] == [
        "window 2026-12-05 21:00 Europe/Amsterdam to 2026-12-05 22:00 Europe/Amsterdam"
    ]
    assert shaded["nyc-1"] == []  # never opens there
    assert shading(spec_windows({}), SITES, NOW, NOW) == {}
    assert spec_windows({"windows": [{"kind": "bogus"}]}) == []
