"""Who still needs a firmware package or its stored file.

Files live at ``<package_dir>/<sha256>/<file_name>``, so two packages with the same content
and file name share one file: it is removed only when the last row naming it is gone. A
package is "in use" while a campaign that lists it has not finished.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.models import Campaign, FirmwarePackage

UNFINISHED = ("created", "running", "paused", "aborting")


def stored_path(root: Path, sha256: str, file_name: str) -> Path:
    return root / sha256 / file_name


def file_users(session: Session, sha256: str, file_name: str, besides: int) -> int:
    """Packages other than ``besides`` whose download is this very file."""
    statement = (
        select(func.count())
        .select_from(FirmwarePackage)
        .where(
            FirmwarePackage.sha256 == sha256,
            FirmwarePackage.file_name == file_name,
            FirmwarePackage.id != besides,
        )
    )
    return session.exec(statement).one()


def release_file(session: Session, root: Path, sha256: str, file_name: str, owner: int) -> None:
    """Remove the file ``owner`` no longer names, unless another package still serves it."""
    if file_users(session, sha256, file_name, besides=owner) == 0:
        stored_path(root, sha256, file_name).unlink(missing_ok=True)


def campaigns_using(session: Session, package_id: int) -> list[int]:
    """Ids of unfinished campaigns whose spec installs this package."""
    rows = session.exec(
        select(Campaign.id, Campaign.spec).where(col(Campaign.status).in_(UNFINISHED))
    ).all()
    return [
        campaign_id
        for campaign_id, spec in rows
        if any(item.get("package_id") == package_id for item in spec.get("firmware", []))
    ]
