"""Command-line parameters checked by the same rules as the API's fields."""

from __future__ import annotations

import typer

from domain.addresses import check_https_url


def https_url(value: str) -> str:
    """A typer callback: an https URL of a host, without user info, query or fragment."""
    try:
        return check_https_url(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
