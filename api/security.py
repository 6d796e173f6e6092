"""Who is calling: login tokens (signed, short-lived), API tokens (stored hashed) and roles."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import anyio
import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.deps import StateDep
from api.state import AppState
from common.settings import Settings
from domain.roles import Role
from store.crypto import derive_key
from store.models import ApiToken

API_TOKEN_PREFIX = "ido_"  # noqa: S105 (a prefix, not a secret)
_ALGORITHM = "HS256"
_ISSUER = "idrac-orch"

bearer = HTTPBearer(auto_error=False, description="A login token or an API token.")


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    via: Literal["ldap", "breakglass", "api-token"]
    approver: bool = False  # may approve or reject campaigns (directory group or token flag)
    # An API token's minter: its approvals and rejections count as the minter's (the token
    # can neither approve its minter's campaign nor add a second approval beside theirs).
    minted_by: str | None = None
    # When the credential stops working: a long-lived response (an event stream) ends then.
    expires_at: datetime | None = field(default=None, compare=False)
    # The api_tokens row an API token principal came from: long-lived responses re-read it.
    token_id: int | None = field(default=None, compare=False)


def signing_key(settings: Settings) -> bytes:
    """The token key: explicit, else derived from the secret key, else random per process
    (tokens then die with the process, which is safe, merely inconvenient)."""
    if settings.token_signing_key is not None:
        return settings.token_signing_key.get_secret_value().encode()
    if settings.secret_key is not None:
        return _derived_signing_key(settings.secret_key.get_secret_value())
    return _PROCESS_KEY


@functools.lru_cache(maxsize=8)
def _derived_signing_key(secret_key: str) -> bytes:
    # HKDF on every request showed in profiles; the derivation is a pure function of the key.
    return derive_key(secret_key, b"login tokens")


_PROCESS_KEY = secrets.token_bytes(32)


def issue_login_token(principal: Principal, key: bytes, ttl_s: int, now: datetime) -> str:
    claims = {
        "iss": _ISSUER,
        "sub": principal.name,
        "role": principal.role.value,
        "via": principal.via,
        "approver": principal.approver,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_s),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=_ALGORITHM)


def _from_login_token(token: str, key: bytes) -> Principal | None:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[_ALGORITHM],
            issuer=_ISSUER,
            options={"require": ["exp", "iat", "sub", "role"]},
        )
        return Principal(
            claims["sub"],
            Role(claims["role"]),
            claims.get("via", "ldap"),
            approver=claims.get("approver") is True,
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (jwt.InvalidTokenError, ValueError, KeyError):
        return None


def principal_from_login_token(token: str, settings: Settings) -> Principal | None:
    """Who a login token names, if it is valid: the console's session cookie holds one."""
    return _from_login_token(token, signing_key(settings))


def new_api_token() -> tuple[str, str]:
    """(token shown once to its creator, SHA-256 that the database keeps)."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_api_token(token)


def hash_api_token(token: str) -> str:
    # A 256-bit random token needs no salt or slow hash: guessing is the only attack.
    return hashlib.sha256(token.encode()).hexdigest()


def _from_api_token(token: str, session: Session, now: datetime) -> Principal | None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_api_token(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and _aware(row.expires_at) <= now:
        return None
    expires_at = _aware(row.expires_at) if row.expires_at is not None else None
    return Principal(
        f"token:{row.name}",
        Role(row.role),
        "api-token",
        approver=row.approver,
        minted_by=row.created_by,
        expires_at=expires_at,
        token_id=row.id,
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def current_principal(
    request: Request,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Login tokens are checked in the event loop (no I/O); API tokens need the database."""
    if credentials is None:
        raise _unauthorized("authentication required: send Authorization: Bearer <token>")
    token, now = credentials.credentials, datetime.now(UTC)
    if token.startswith(API_TOKEN_PREFIX):
        principal = await anyio.to_thread.run_sync(_lookup_api_token, state, token, now)
    else:
        principal = _from_login_token(token, signing_key(state.settings))
    if principal is None:
        raise _unauthorized("token invalid, expired or revoked")
    request.state.principal = principal
    return principal


def _lookup_api_token(state: AppState, token: str, now: datetime) -> Principal | None:
    with Session(state.engine) as session:
        return _from_api_token(token, session, now)


def still_valid(principal: Principal, engine: Engine, role: Role, now: datetime) -> bool:
    """Whether the credential behind ``principal`` still grants ``role``, for a long-lived
    response (an event stream) that authenticated once. An API token is re-read from the
    database: revoked, expired, deleted or no longer of a sufficient role ends it. A login
    token (LDAP, break-glass) is stateless and signed, with a lifetime it always carries:
    its expiry is its only check, as on every request."""
    if principal.expires_at is not None and now >= principal.expires_at:
        return False
    if principal.via != "api-token":
        return principal.role.includes(role)
    if principal.token_id is None:
        return False
    with Session(engine) as session:
        row = session.get(ApiToken, principal.token_id)
        if row is None or row.revoked_at is not None:
            return False
        if row.expires_at is not None and _aware(row.expires_at) <= now:
            return False
        return Role(row.role).includes(role)


def check_role(principal: Principal, role: Role) -> Principal:
    """The one role check: the API's dependencies and the console's actions both use it."""
    if not principal.role.includes(role):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail=f"requires role {role.value} or higher"
        )
    return principal


def require(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        return check_role(principal, role)

    return dependency


def check_approver(principal: Principal) -> Principal:
    """The approver right is a flag beside the role, not a rank: no role implies it."""
    if principal.approver:
        return principal
    detail = "requires the approver right"
    if principal.via == "api-token":
        detail += (
            ": this API token was minted without it (an admin who holds the right may "
            'mint one with "approver": true)'
        )
    raise HTTPException(status.HTTP_403_FORBIDDEN, detail=detail)


async def _approver(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    return check_approver(check_role(principal, Role.VIEWER))


def approver_identity(principal: Principal) -> str:
    """Who a decision counts as: the person, or the person who minted the API token."""
    if principal.via == "api-token" and principal.minted_by:
        return principal.minted_by
    return principal.name


Approver = Annotated[Principal, Depends(_approver)]
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


# Break-glass password hashes: scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    parts = [str(_SCRYPT[k]) for k in ("n", "r", "p")]
    encoded = [base64.b64encode(x).decode() for x in (salt, digest)]
    return "$".join(["scrypt", *parts, *encoded])


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
