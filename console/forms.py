"""HTML form bodies (application/x-www-form-urlencoded), read without extra dependencies;
the API's body-size limit has already bounded them."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from fastapi import HTTPException, Request, status

FORM_TYPE = "application/x-www-form-urlencoded"


async def read_form(request: Request) -> dict[str, str]:
    """The form's fields (the first value of each); a clear 415/422 for anything else."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != FORM_TYPE:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=f"send the form as {FORM_TYPE}"
        )
    try:
        text = (await request.body()).decode()
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="the form is not valid UTF-8"
        ) from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" in value:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"{name}: contains a NUL character"
            )
        fields.setdefault(name, value)
    return fields


def local_path(target: str | None, default: str = "/ui/fleet") -> str:
    """Where to go after logging in: only a path inside the console (never another site)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/ui/") or target.startswith("//"):
        return default
    return target
