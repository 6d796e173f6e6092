"""Enrollments from a bulk import: names resolved, then all rows written in one commit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from domain.enrollment import ImportRow, InvalidImport, RowError
from store.models import Cluster, CredentialProfile, Datacenter, utcnow
from store.onboarding import Enrollment


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def _lookup(session: Session, model: Any, names: set[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = defaultdict(list)
    if names:
        for row in session.exec(select(model).where(col(model.name).in_(names))).all():
            found[row.name].append(row.id)
    return found


def _resolve(
    session: Session, rows: list[ImportRow], errors: list[RowError]
) -> list[dict[str, Any]]:
    """Each row's enrollment fields; InvalidImport naming every earlier problem and every
    unknown or ambiguous name, in file order."""
    sites = _lookup(session, Datacenter, {r.site for r in rows if r.site})
    clusters = _lookup(session, Cluster, {r.cluster for r in rows if r.cluster})
    profiles = _lookup(
        session, CredentialProfile, {r.credential_profile for r in rows if r.credential_profile}
    )
    errors, resolved = list(errors), []
    for row in rows:
        ids: dict[str, int | None] = {}
        for name, value, table, kind in (
            ("site", row.site, sites, "datacenter"),
            ("cluster", row.cluster, clusters, "cluster"),
            ("credential_profile", row.credential_profile, profiles, "credential profile"),
        ):
            matches = table.get(value, []) if value else [None]
            if not matches:
                errors.append(RowError(row.line, name, f"no {kind} named {value!r}"))
            elif len(matches) > 1:
                errors.append(
                    RowError(row.line, name, f"{len(matches)} {kind}s are named {value!r}")
                )
            ids[name] = matches[0] if matches else None
        resolved.append(
            {
                "address": row.address,
                "service_tag": row.service_tag,
                "datacenter_id": ids["site"],
                "cluster_id": ids["cluster"],
                "esxi_host": row.esxi_host,
                "labels": row.labels,
                "credential_profile_id": ids["credential_profile"],
            }
        )
    if errors:
        raise InvalidImport(sorted(errors, key=lambda e: e.line))
    return resolved


def import_rows(session: Session, rows: list[ImportRow], errors: list[RowError]) -> ImportResult:
    """Create or update one enrollment per address; the same file twice changes nothing.

    An empty cell keeps what is known (a service tag found by discovery stays)."""
    wanted = _resolve(session, rows, errors)
    existing = {
        e.address: e
        for e in session.exec(
            select(Enrollment).where(col(Enrollment.address).in_([w["address"] for w in wanted]))
        ).all()
    }
    created = updated = 0
    for fields in wanted:
        row = existing.get(fields["address"])
        if row is None:
            session.add(Enrollment(source="import", **fields))
            created += 1
            continue
        given = {k: v for k, v in fields.items() if v not in (None, {})}  # empty: keep
        if any(getattr(row, k) != v for k, v in given.items()):
            for key, value in given.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            session.add(row)
            updated += 1
    session.commit()
    return ImportResult(created, updated, len(wanted) - created - updated)
