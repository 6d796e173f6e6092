"""`idrac-orch catalog import PATH|URL | list`: Dell catalogs, through the API.

A PATH may be Catalog.xml, Catalog.xml.gz or a Dell Repository Manager mirror folder
(its catalog file is found the way the API documents); the file is streamed to the API.
A URL is fetched by the API itself. Exit codes as for `campaign`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.campaign import DEFAULT_API_URL, EXIT_USAGE, ApiUrl, AsJson, CliError, Token
from cli.campaign import _session as api_session
from integrations.catalog.parser import CatalogError
from integrations.catalog.source import find_catalog

app = typer.Typer(help="Dell firmware catalogs: import and list.", no_args_is_help=True)
IMPORT_TIMEOUT_S = 600.0  # a full Dell catalog is parsed and stored before the answer


def describe(catalog: dict[str, Any]) -> str:
    return (
        f"catalog {catalog['id']}: Dell {catalog['version'] or '?'} "
        f"(release {catalog['release_id'] or '?'}, {catalog['date_time'] or 'undated'}), "
        f"{catalog['software_count']} packages, {catalog['inventory_count']} inventory "
        f"collectors, from {catalog['source']}"
    )


@app.command("import")
def import_catalog(
    source: Annotated[
        str, typer.Argument(help="Catalog.xml(.gz), a mirror folder, or an http(s) URL.")
    ],
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Import a catalog: all of it or nothing; a bad line is named."""
    with api_session(api_url, token) as api:
        if source.startswith(("http://", "https://")):
            catalog = api.call("POST", "/catalogs", json={"url": source}, timeout=IMPORT_TIMEOUT_S)
        else:
            try:
                path = find_catalog(Path(source))
            except CatalogError as exc:
                raise CliError(str(exc), EXIT_USAGE) from None
            with path.open("rb") as content:
                catalog = api.call(
                    "POST",
                    "/catalogs",
                    params={"file_name": path.name},
                    content=content,
                    headers={"Content-Type": "application/octet-stream"},
                    timeout=IMPORT_TIMEOUT_S,
                )
        typer.echo(json.dumps(catalog) if as_json else describe(catalog))


@app.command("list")
def list_catalogs(
    as_json: AsJson = False, api_url: ApiUrl = DEFAULT_API_URL, token: Token = None
) -> None:
    """Every imported catalog, newest first."""
    with api_session(api_url, token) as api:
        catalogs = api.every("/catalogs")
        if as_json:
            typer.echo(json.dumps(catalogs))
            return
        for catalog in catalogs:
            typer.echo(describe(catalog))
        if not catalogs:
            typer.echo("no catalogs imported yet (idrac-orch catalog import PATH|URL)")
