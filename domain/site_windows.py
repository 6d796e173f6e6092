"""Which maintenance windows gate one cluster, in which timezone.

A campaign spans sites: a window may be scoped to datacenters and clusters, and may be
expressed in each site's own timezone (``timezone: site``). A cluster is gated only by the
windows that apply to it, read in concrete timezones, so a New York host never starts in an
Amsterdam window. Pure: the plan activity, the workflow and ``campaign plan`` share it.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.campaign_spec import SITE_TIMEZONE, Window


def windows_for(
    windows: Sequence[Window], *, datacenter: str, site_timezone: str | None, cluster: str
) -> list[Window]:
    """The windows that apply to CLUSTER of DATACENTER, unscoped and in concrete zones.

    Empty when none applies; the caller tells "no windows at all" (any time) from "none of
    the campaign's windows applies here" (never) by whether WINDOWS was empty. A site-time
    window never applies where the site's timezone is unknown: local time is not guessed.
    """
    return [
        window.model_copy(
            update={
                "timezone": site_timezone if window.timezone == SITE_TIMEZONE else window.timezone,
                "datacenters": [],
                "clusters": [],
            }
        )
        for window in windows
        if window.applies_to(datacenter, cluster)
        and (window.timezone != SITE_TIMEZONE or site_timezone is not None)
    ]


def no_window_applies(datacenter: str, cluster: str) -> str:
    return (
        f"cluster {cluster}: none of the campaign's maintenance windows applies to it "
        f"(datacenter {datacenter or 'unknown'}); its hosts are not planned"
    )


def in_datacenter(window: Window, datacenter: str | None) -> Window:
    """A stored window as a campaign copies it: gating only the datacenter it was stored
    for (none: everywhere)."""
    return window if datacenter is None else window.model_copy(update={"datacenters": [datacenter]})
