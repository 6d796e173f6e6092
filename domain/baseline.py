"""A firmware baseline: the catalog a set of hosts should run, narrowed by filters.

A baseline is a catalog plus a scope (datacenter, cluster and host names; a host is named
by its ESXi host name or its service tag) plus filters. The scope is a union, like a
campaign's targets; an empty scope is the whole fleet, the usual "fleet baseline". The
filters narrow the catalog before anything is compared:

- ``criticality``: Dell's ``Criticality@value`` codes kept (1 Recommended, 2 Urgent,
  3 Optional); empty keeps every package.
- ``component_types``: ``ComponentType@value`` kept (FRMW, BIOS, APAC, DRVR); empty: all.
- ``pinned``: component id -> the version the fleet must run, instead of the catalog's
  newest (a known-good BIOS held back, say). Only a catalog package of that version counts.
- ``exclusions``: component ids never compared (a card managed by its own tooling).
- ``allow_downgrade``: whether remediation may take a component back to the baseline's
  version; compliance reports a host newer than its baseline as ``downgrade`` either way.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.campaign_spec import no_repeats

ComponentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,32}$", examples=["159"])]
ScopeName = Annotated[str, Field(min_length=1, max_length=255)]
MAX_SCOPE = 5000


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BaselineScope(_Model):
    """Which hosts the baseline governs: the union of these; all empty = every host."""

    datacenters: list[ScopeName] = Field(default_factory=list, max_length=MAX_SCOPE)
    clusters: list[ScopeName] = Field(
        default_factory=list, max_length=MAX_SCOPE, examples=[["prod-a"]]
    )
    hosts: list[ScopeName] = Field(
        default_factory=list,
        max_length=MAX_SCOPE,
        description="ESXi host names or service tags",
        examples=[["esx01.example.test", "ABC1234"]],
    )

    @field_validator("datacenters", "clusters", "hosts")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return no_repeats(value, "listed more than once")

    @property
    def fleet(self) -> bool:
        return not (self.datacenters or self.clusters or self.hosts)

    def covers(self, datacenter: str | None, cluster: str | None, names: tuple[str, ...]) -> bool:
        """Whether a host in ``datacenter``/``cluster`` known by ``names`` is in scope."""
        if self.fleet:
            return True
        return (
            (datacenter is not None and datacenter in self.datacenters)
            or (cluster is not None and cluster in self.clusters)
            or any(name in self.hosts for name in names)
        )


class BaselineFilters(_Model):
    criticality: list[Annotated[int, Field(ge=1, le=3)]] = Field(
        default_factory=list, max_length=3, description="1 Recommended, 2 Urgent, 3 Optional"
    )
    component_types: list[Annotated[str, Field(pattern=r"^[A-Z]{2,16}$")]] = Field(
        default_factory=list, max_length=16, examples=[["FRMW", "BIOS"]]
    )
    pinned: dict[ComponentId, Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=dict, max_length=500, examples=[{"159": "2.13.0"}]
    )
    exclusions: list[ComponentId] = Field(default_factory=list, max_length=500)
    allow_downgrade: bool = False

    @field_validator("criticality", "component_types", "exclusions")
    @classmethod
    def _distinct(cls, value: list[object]) -> list[object]:
        no_repeats([str(v) for v in value], "listed more than once")
        return value
