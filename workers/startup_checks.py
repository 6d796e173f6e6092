"""Checks the worker makes before it polls, so a misconfiguration fails at start with a
clear message instead of as a firmware job that times out on every host.

Today's check: the package address. iDRACs download firmware from
IDRAC_ORCH_PACKAGE_REPOSITORY_URL; a loopback address there (the default,
``http://127.0.0.1:8000``) is the iDRAC's own loopback, which no real iDRAC can use. It is
accepted only while every iDRAC in the inventory is itself on loopback (the simulators).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import Engine, inspect
from sqlmodel import Session, select

from store.models import Server


class StartupCheckError(RuntimeError):
    """The worker must not start with this configuration."""


def is_loopback(host: str) -> bool:
    if host.lower() in {"localhost", "localhost.localdomain", "ip6-localhost"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a DNS name: resolved by the iDRAC, not by us


def check_package_address(repository_url: str, idrac_addresses: Iterable[str]) -> None:
    """Refuse a loopback package address when any iDRAC is not on loopback."""
    host = urlsplit(repository_url).hostname
    if host is None:
        raise StartupCheckError(
            f"IDRAC_ORCH_PACKAGE_REPOSITORY_URL {repository_url!r} has no host name"
        )
    if not is_loopback(host):
        return
    remote = sorted({a for a in idrac_addresses if not is_loopback(a)})
    if remote:
        raise StartupCheckError(
            f"IDRAC_ORCH_PACKAGE_REPOSITORY_URL is {repository_url}, a loopback address, but "
            f"{len(remote)} iDRAC(s) (e.g. {remote[0]}) are not on this machine and cannot "
            "download from it: set it to the API's address as the iDRACs reach it"
        )


def inventory_idrac_addresses(engine: Engine) -> list[str]:
    """The iDRACs on record; none while the API has not created the schema yet (a fresh
    database: the worker may start first)."""
    if not inspect(engine).has_table(Server.__tablename__):
        return []
    with Session(engine) as session:
        return list(session.exec(select(Server.idrac_address)).all())
