"""Logins (directory or break-glass) and API tokens for automation."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from sqlmodel import col, select

from api.audit import client_address
from api.crud import ERRORS, NOT_FOUND, Id, Limit, Message, Offset, Page, get_or_404, paginate, save
from api.deps import SessionDep, StateDep
from api.security import (
    Admin,
    Principal,
    Viewer,
    hash_password,
    issue_login_token,
    new_api_token,
    signing_key,
    verify_password,
)
from api.state import AppState
from domain.roles import Role, highest
from integrations.ldap import (
    LdapAuthError,
    LdapUnavailableError,
    LdapUnknownUserError,
    normalize_dn,
)
from store.audit import AuditRecord, append
from store.models import ApiToken, utcnow

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Annotated[str, Field(min_length=1, max_length=256, examples=["alice"])]
    password: Annotated[
        SecretStr, Field(min_length=1, max_length=1024, json_schema_extra={"writeOnly": True})
    ]

    @field_validator("username", "password")
    @classmethod
    def _encodable(cls, value: str | SecretStr) -> str | SecretStr:
        """A lone surrogate ("\\ud800" in JSON) cannot reach the directory or scrypt: the
        directory client failed on it with a misleading 503."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        try:
            text.encode()
        except UnicodeEncodeError:
            raise ValueError("is not valid Unicode text (a lone surrogate)") from None
        return value


class LoginResponse(BaseModel):
    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    token_type: str = Field(default="bearer", examples=["bearer"])
    expires_at: datetime
    role: Role
    username: str


class Me(BaseModel):
    name: str
    role: Role
    via: str
    approver: bool = Field(description="May approve or reject campaigns (not its own).")


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=128, examples=["ci-pipeline"])]
    role: Role = Field(examples=["operator"])
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = Field(
        default=None, description="Null: never expires (revoke it instead)."
    )
    approver: bool = Field(
        default=False,
        description="Holds the approver right: may approve or reject campaigns, its decisions "
        "counting as its minter's (never a campaign its minter created). Only an admin who "
        "holds the right may mint such a token. Off unless asked for.",
    )


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    role: Role
    approver: bool
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; only its hash is stored.")


LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Message, "description": "wrong user name or password, or no mapped group"},
    429: {"model": Message, "description": "too many failed logins from this source"},
    503: {"model": Message, "description": "directory unreachable"},
}


def _audit_login(
    state: AppState, username: str, source: str | None, outcome: str, role: Role | None, why: str
) -> None:
    append(
        state.engine,
        AuditRecord(
            actor=username,
            role=role.value if role else None,
            action="login",
            target="auth",
            outcome=outcome,
            source=source,
            detail=why,
        ),
        keys=state.audit_keys,
    )


def _authenticate(state: AppState, username: str, password: str) -> tuple[Principal | None, str]:
    """(principal, reason). Blocking: directory calls and scrypt run in a worker thread.

    Every attempt costs one scrypt and (with a directory) one directory lookup, whoever the
    user: when only the break-glass name paid for scrypt, it answered 45 ms slower than an
    unknown name, which told an attacker which name to guess passwords for.

    Raises LdapUnknownUserError when no such user exists, so that the caller does not
    record the name (it is often a password typed into the wrong field)."""
    settings = state.settings
    hashed = settings.breakglass_password_hash
    breakglass = hashed is not None and username == settings.breakglass_username
    matches = verify_password(password, hashed.get_secret_value() if hashed else _decoy_hash())
    if breakglass:
        _directory_decoy(state, username)
        if matches:
            return Principal(username, Role.ADMIN, "breakglass"), "break-glass admin"
        return None, "break-glass password mismatch"
    if state.ldap is None:
        return None, "directory logins are not configured"
    try:
        identity = state.ldap.authenticate(username, password)
    except LdapUnknownUserError:
        raise
    except LdapAuthError as exc:
        return None, str(exc)
    mapping = {normalize_dn(dn): Role(role) for dn, role in settings.ldap_role_groups.items()}
    role = highest([mapping[g] for g in identity.groups if g in mapping])
    if role is None:
        return None, "no group of this user maps to a role"
    approver = any(normalize_dn(dn) in identity.groups for dn in settings.ldap_approver_groups)
    why = f"directory groups grant {role.value}" + (" and the approver right" if approver else "")
    return Principal(username, role, "ldap", approver=approver), why


@functools.cache
def _decoy_hash() -> str:
    """What a password is checked against when no break-glass account exists (same cost)."""
    return hash_password(secrets.token_urlsafe(24))


def _directory_decoy(state: AppState, username: str) -> None:
    """The directory lookup an unknown name costs, spent on the break-glass name too (with a
    random password, so the break-glass password never reaches the directory)."""
    if state.ldap is None:
        return
    with contextlib.suppress(LdapAuthError, LdapUnavailableError):
        state.ldap.authenticate(username, secrets.token_urlsafe(24))


def _invalid_credentials() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail="invalid credentials",
        headers={"WWW-Authenticate": "Bearer"},
    )


@router.post("/login", response_model=LoginResponse, responses=LOGIN_ERRORS)
async def login(body: LoginRequest, request: Request, state: StateDep) -> LoginResponse:
    source = client_address(request.scope) or "unknown"
    username = body.username
    wait = state.limiter.retry_after(username, source)
    if wait is not None:
        await anyio.to_thread.run_sync(
            _audit_login, state, username, source, "denied", None, "rate limited"
        )
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail="too many failed logins; try again later",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    try:
        principal, why = await anyio.to_thread.run_sync(
            _authenticate, state, username, body.password.get_secret_value()
        )
    except LdapUnknownUserError as exc:
        state.limiter.failed(username, source)
        fingerprint = hashlib.sha256(username.encode()).hexdigest()[:12]
        await anyio.to_thread.run_sync(
            _audit_login,
            state,
            "(unknown user)",
            source,
            "failure",
            None,
            f"{exc}; name fingerprint {fingerprint}",
        )
        raise _invalid_credentials() from None
    except LdapUnavailableError as exc:
        await anyio.to_thread.run_sync(
            _audit_login, state, username, source, "error", None, str(exc)
        )
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail="directory unavailable"
        ) from None
    if principal is None:
        state.limiter.failed(username, source)
        await anyio.to_thread.run_sync(_audit_login, state, username, source, "failure", None, why)
        raise _invalid_credentials()
    state.limiter.succeeded(username, source)
    request.state.principal = principal
    await anyio.to_thread.run_sync(
        _audit_login, state, principal.name, source, "success", principal.role, why
    )
    now = datetime.now(UTC)
    ttl = state.settings.login_token_ttl_s
    return LoginResponse(
        access_token=issue_login_token(principal, signing_key(state.settings), ttl, now),
        expires_at=now + timedelta(seconds=ttl),
        role=principal.role,
        username=principal.name,
    )


@router.get("/me", response_model=Me, responses=ERRORS)
def me(principal: Viewer) -> Me:
    return Me(
        name=principal.name, role=principal.role, via=principal.via, approver=principal.approver
    )


@router.post(
    "/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED, responses=ERRORS
)
def create_token(
    body: TokenCreate, request: Request, state: StateDep, session: SessionDep, principal: Admin
) -> TokenCreated:
    if body.approver and not principal.approver:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="only an admin who holds the approver right may mint a token with it "
            "(the token's decisions count as its minter's)",
        )
    token, digest = new_api_token()
    expires = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    row = save(
        session,
        ApiToken(
            name=body.name,
            token_hash=digest,
            role=body.role.value,
            approver=body.approver,
            created_by=principal.name,
            expires_at=expires,
        ),
    )
    _audit_token_minted(state, principal, row, client_address(request.scope))
    return TokenCreated(**TokenOut.model_validate(row).model_dump(), token=token)


def _audit_token_minted(
    state: AppState, principal: Principal, row: ApiToken, source: str | None
) -> None:
    """What the token may do, beside the request's own entry (which has no body): its
    role and whether it holds the approver right. Never the token or its hash."""
    right = "with the approver right" if row.approver else "without the approver right"
    append(
        state.engine,
        AuditRecord(
            actor=principal.name,
            role=principal.role.value,
            action="api_token_minted",
            target=f"api token {row.id} ({row.name})",
            outcome="success",
            source=source,
            detail=f"role {row.role}, {right}",
        ),
        keys=state.audit_keys,
    )


@router.get("/tokens", response_model=Page[TokenOut], responses=ERRORS)
def list_tokens(
    session: SessionDep, _: Admin, limit: Limit = 100, offset: Offset = 0
) -> Page[TokenOut]:
    statement = select(ApiToken).order_by(col(ApiToken.id))
    items, total = paginate(session, statement, limit, offset)
    return Page(
        items=[TokenOut.model_validate(i) for i in items], total=total, limit=limit, offset=offset
    )


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**ERRORS, **NOT_FOUND},
    summary="Revoke an API token (the row stays, for the audit trail)",
)
def revoke_token(token_id: Id, session: SessionDep, _: Admin) -> None:
    row = get_or_404(session, ApiToken, token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        save(session, row)
