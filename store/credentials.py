"""Credential profiles: resolution for a server and, for activities only, the secret itself."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr
from sqlmodel import Session, select

from common.logging import register_secret
from domain.credential_scope import (
    LoginFor,
    ProfileScope,
    Resolution,
    Scope,
    ServerFacts,
    resolve,
)
from store.crypto import Sealed, SecretBox
from store.models import CredentialProfile, Server, Vcenter, utcnow


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
        login_for=LoginFor(profile.login_for),
    )


def all_scopes(session: Session) -> list[ProfileScope]:
    return [profile_scope(p) for p in session.exec(select(CredentialProfile)).all()]


def server_facts(server: Server) -> ServerFacts:
    return ServerFacts(
        server.id or 0, server.idrac_address, server.datacenter_id, server.credential_profile_id
    )


def resolve_for_server(session: Session, server: Server) -> Resolution:
    return resolve(all_scopes(session), server_facts(server))


def resolve_for_vcenter(
    session: Session, vcenter: Vcenter, scopes: list[ProfileScope] | None = None
) -> Resolution:
    """The profile chosen for this vCenter, else the most specific vCenter login (SCOPES:
    every profile, when the caller read them once for many vCenters)."""
    scopes = all_scopes(session) if scopes is None else scopes
    if vcenter.credential_profile_id is not None:
        chosen = next(p for p in scopes if p.profile_id == vcenter.credential_profile_id)
        return Resolution(
            chosen.profile_id, chosen.name, chosen.scope, "chosen for this vCenter", (), ()
        )
    host = urlsplit(vcenter.address).hostname or vcenter.address  # registered as a URL
    facts = ServerFacts(0, host, vcenter.datacenter_id, login_for=LoginFor.VCENTER)
    return resolve(scopes, facts)


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
