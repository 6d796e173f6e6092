"""The maintenance windows a campaign's timeline shades, per cluster, labelled in the
site's local time: the same windows the campaign's plan gates each cluster by
(domain/site_windows.py), merged into open spans by domain/windows.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from domain.campaign_spec import Window
from domain.site_windows import windows_for
from domain.windows import parse_windows, show_local, spans

MAX_SPANS = 50  # per cluster: a timeline that long shows no more
_SPEC_WINDOWS: TypeAdapter[list[Any]] = TypeAdapter(list[Window])


def spec_windows(spec: dict[str, Any] | None) -> list[Any]:
    """The campaign spec's windows (none: open any time, nothing to shade)."""
    try:
        return _SPEC_WINDOWS.validate_python((spec or {}).get("windows") or [])
    except ValidationError:
        return []


def shading(
    windows: list[Any],
    sites: dict[str, tuple[str, str | None]],
    begin: datetime,
    until: datetime,
) -> dict[str, list[dict[str, str]]]:
    """cluster -> the open spans between ``begin`` and ``until`` and the next one after
    (ends not clipped, so a span stays the same while the clock runs). ``sites``: cluster
    -> (datacenter, its timezone). A cluster no window applies to has none: never opens."""
    shaded: dict[str, list[dict[str, str]]] = {}
    if not windows:
        return shaded
    for cluster, (datacenter, zone) in sites.items():
        gating = windows_for(windows, datacenter=datacenter, site_timezone=zone, cluster=cluster)
        found = []
        for span in spans(parse_windows(gating), begin):
            if len(found) >= MAX_SPANS:
                break
            shown = zone or span.start_zone
            found.append(
                {
                    "start": span.start.isoformat(),
                    "end": span.end.isoformat(),
                    "label": f"window {show_local(span.start, shown)} to "
                    f"{show_local(span.end, zone or span.end_zone)}",
                }
            )
            if span.start > until:
                break  # the next one to open, kept: what a waiting cluster waits for
        shaded[cluster] = found
    return shaded
