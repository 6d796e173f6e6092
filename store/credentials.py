"""Credential profiles: resolution for a server and, for activities only, the secret itself."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr
from sqlmodel import Session, select

from common.logging import register_secret
from domain.credential_scope import ProfileScope, Resolution, Scope, ServerFacts, resolve
from store.crypto import Sealed, SecretBox
from store.models import CredentialProfile, Server, utcnow


@dataclass(frozen=True)
class Credential:
    username: str
    password: SecretStr


def profile_scope(profile: CredentialProfile) -> ProfileScope:
    return ProfileScope(
        profile_id=profile.id or 0,
        name=profile.name,
        scope=Scope(profile.scope),
        datacenter_id=profile.datacenter_id,
        cidr=profile.cidr,
        server_id=profile.server_id,
    )


def resolve_for_server(session: Session, server: Server) -> Resolution:
    profiles = session.exec(select(CredentialProfile)).all()
    facts = ServerFacts(server.id or 0, server.idrac_address, server.datacenter_id)
    return resolve([profile_scope(p) for p in profiles], facts)


def reveal(session: Session, box: SecretBox, profile_id: int) -> Credential:
    """Decrypt a profile's secret for an outbound login; registered so logs mask it."""
    profile = session.get(CredentialProfile, profile_id)
    if profile is None:
        raise LookupError(f"credential profile {profile_id} does not exist")
    password = box.open(Sealed(profile.secret_ciphertext, profile.key_id))
    register_secret(password)
    return Credential(profile.username, SecretStr(password))


def set_secret(profile: CredentialProfile, box: SecretBox, secret: str) -> None:
    sealed = box.seal(secret)
    profile.secret_ciphertext, profile.key_id = sealed.ciphertext, sealed.key_id
    profile.updated_at = utcnow()


@dataclass(frozen=True)
class RotationResult:
    rotated: int
    already_current: int


def rotate_all(session: Session, box: SecretBox) -> RotationResult:
    """Re-seal every secret not under the current key; all or nothing (one transaction)."""
    rotated = current = 0
    for profile in session.exec(select(CredentialProfile)).all():
        if profile.key_id == box.current_key_id:
            current += 1
            continue
        set_secret(profile, box, box.open(Sealed(profile.secret_ciphertext, profile.key_id)))
        session.add(profile)
        rotated += 1
    session.commit()
    return RotationResult(rotated, current)
