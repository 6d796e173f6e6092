"""Temporal codec server: the Web UI shows decrypted payloads to logged-in users only.

Temporal's protocol: the UI POSTs ``{"payloads": [...]}`` (protobuf JSON) to
``<endpoint>/decode`` or ``/encode`` and shows what comes back. Point the UI at
``https://<api>/codec``. The browser must prove who it is: either the UI forwards an
``Authorization: Bearer`` login or API token, or (the plain Temporal UI, which cannot
attach our tokens) the user opens a codec session once with ``POST /codec/session`` and
the UI sends its cookie ("Include cross-origin credentials"). Decoding needs viewer,
encoding (payloads an operator sends from the UI) operator. Cross-origin calls are allowed
from IDRAC_ORCH_CODEC_CORS_ORIGIN only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field
from temporalio.api.common.v1 import Payload, Payloads

from api.crud import ERRORS, Message
from api.deps import StateDep
from api.security import API_TOKEN_PREFIX, Principal, bearer, current_principal
from common.codec import CodecKeyError, EncryptionCodec
from common.temporal import payload_codec
from domain.roles import Role

COOKIE = "idrac_orch_codec"
_ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"


class CorsRoute(APIRoute):
    """CORS for the configured Web UI origin on every answer, errors included (a UI that
    cannot read a 401 cannot tell the user to log in)."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handler(request)
            except HTTPException as exc:
                response = JSONResponse({"detail": exc.detail}, exc.status_code, exc.headers)
            _allow_origin(request, response)
            return response

        return with_cors


router = APIRouter(prefix="/codec", tags=["codec"], route_class=CorsRoute)


def _allow_origin(request: Request, response: Response) -> None:
    origin = request.headers.get("origin")
    if origin is not None and origin == request.app.state.orch.settings.codec_cors_origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Vary"] = "Origin"


async def _token(
    request: Request,
    header: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> HTTPAuthorizationCredentials | None:
    cookie = request.cookies.get(COOKIE)
    if header is not None or cookie is None:
        return header
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=cookie)


TokenDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_token)]


def _caller(role: Role) -> Callable[..., Awaitable[Principal]]:
    async def dependency(request: Request, state: StateDep, credentials: TokenDep) -> Principal:
        principal = await current_principal(request, state, credentials)
        if not principal.role.includes(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires role {role.value} or higher")
        return principal

    return dependency


def _codec(request: Request) -> EncryptionCodec:
    """Built once per process from the same settings the workers use."""
    app_state = request.app.state
    if not hasattr(app_state, "payload_codec"):
        app_state.payload_codec = payload_codec(app_state.orch.settings)
    if app_state.payload_codec is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "payload keys not configured")
    return app_state.payload_codec


CodecDep = Annotated[EncryptionCodec, Depends(_codec)]


class PayloadJson(BaseModel):
    """One Temporal Payload in protobuf JSON: metadata values and data are base64."""

    model_config = ConfigDict(extra="allow")  # newer protocol fields pass through
    metadata: dict[str, str] = Field(default_factory=dict)
    data: str = ""


class PayloadsJson(BaseModel):
    payloads: list[PayloadJson] = Field(default_factory=list)


CODEC_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {"model": Message, "description": "bad base64, or a key not configured here"},
    503: {"model": Message, "description": "no payload key configured"},
}


def _parse(body: PayloadsJson) -> Payloads:
    try:
        return json_format.ParseDict(body.model_dump(), Payloads(), ignore_unknown_fields=True)
    except json_format.ParseError:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, 'expected {"payloads": [...]} (protobuf JSON)'
        ) from None


def _answer(payloads: list[Payload]) -> PayloadsJson:
    return PayloadsJson.model_validate(json_format.MessageToDict(Payloads(payloads=payloads)))


@router.post("/decode", responses=CODEC_ERRORS)
async def decode(
    body: PayloadsJson,
    codec: CodecDep,
    _: Annotated[Principal, Depends(_caller(Role.VIEWER))],
) -> PayloadsJson:
    """Decrypt payloads for the Web UI; payloads that were never encrypted come back as is."""
    try:
        return _answer(await codec.decode(_parse(body).payloads))
    except CodecKeyError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None


@router.post("/encode", responses=CODEC_ERRORS)
async def encode(
    body: PayloadsJson,
    codec: CodecDep,
    _: Annotated[Principal, Depends(_caller(Role.OPERATOR))],
) -> PayloadsJson:
    """Encrypt what an operator types into the Web UI (a signal's input, say)."""
    return _answer(await codec.encode(_parse(body).payloads))


@router.post("/session", status_code=status.HTTP_204_NO_CONTENT, responses=CODEC_ERRORS)
async def open_session(
    request: Request,
    response: Response,
    credentials: TokenDep,
    _: Annotated[Principal, Depends(_caller(Role.VIEWER))],
) -> None:
    """Hand the presented login token to the browser as an HttpOnly cookie scoped to
    /codec, for a Web UI that sends cookies but cannot attach tokens. It expires with the
    token; API tokens are refused here (they outlive any browser session)."""
    assert credentials is not None  # _caller rejected anonymous calls
    if credentials.credentials.startswith(API_TOKEN_PREFIX):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "use a login token, not an API token")
    response.set_cookie(
        COOKIE,
        credentials.credentials,
        max_age=request.app.state.orch.settings.login_token_ttl_s,
        path="/codec",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="none" if request.url.scheme == "https" else "lax",
    )


@router.options("/{operation}", include_in_schema=False)
async def preflight(operation: str, request: Request) -> Response:
    """CORS preflight: only the configured Web UI origin gets allow headers."""
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if request.headers.get("origin") == request.app.state.orch.settings.codec_cors_origin:
        response.headers["Access-Control-Allow-Methods"] = "POST"
        response.headers["Access-Control-Allow-Headers"] = _ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response
