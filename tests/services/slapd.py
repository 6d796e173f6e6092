"""A private OpenLDAP server (Debian slapd) on a loopback port, with its own config."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services.ports import free_port, wait_for_port

SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
INSTALL_HINT = "apt-get install slapd ldap-utils"


@dataclass(frozen=True)
class Slapd:
    url: str
    base_dn: str
    admin_dn: str
    admin_password: str
    host: str
    port: int


def _require(binary: str) -> str:
    found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin")
    if found is None:
        raise RuntimeError(f"{binary} not found; run `{INSTALL_HINT}`")
    return found


@contextmanager
def running_slapd(seed_ldif: str, base_dn: str = "dc=example,dc=test") -> Iterator[Slapd]:
    """Start slapd with an mdb database for ``base_dn`` and load ``seed_ldif`` into it."""
    slapd, ldapadd, slappasswd = _require("slapd"), _require("ldapadd"), _require("slappasswd")
    admin_dn, admin_password = f"cn=admin,{base_dn}", "admin-secret"
    hashed = subprocess.run(
        [slappasswd, "-s", admin_password], capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="slapd-") as tmp:
        work = Path(tmp)
        (work / "db").mkdir()
        includes = "\n".join(f"include /etc/ldap/schema/{s}.schema" for s in SCHEMAS)
        (work / "slapd.conf").write_text(
            f"""{includes}
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {work}/slapd.pid
argsfile {work}/slapd.args
database mdb
maxsize 104857600
suffix "{base_dn}"
rootdn "{admin_dn}"
rootpw {hashed}
directory {work}/db
overlay memberof
index objectClass eq
"""
        )
        port = free_port()
        url = f"ldap://127.0.0.1:{port}/"
        subprocess.run([slapd, "-h", url, "-f", str(work / "slapd.conf")], check=True)
        try:
            wait_for_port("127.0.0.1", port)
            (work / "seed.ldif").write_text(seed_ldif)
            subprocess.run(
                [
                    ldapadd,
                    "-x",
                    "-H",
                    url,
                    "-D",
                    admin_dn,
                    "-w",
                    admin_password,
                    "-f",
                    str(work / "seed.ldif"),
                ],
                check=True,
                capture_output=True,
            )
            yield Slapd(url, base_dn, admin_dn, admin_password, "127.0.0.1", port)
        finally:
            _stop(work / "slapd.pid")


def _stop(pid_file: Path) -> None:
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().strip())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
