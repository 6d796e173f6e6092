"""What an iDRAC or vCenter address may be, checked wherever one enters.

Addresses are pasted into URLs (``https://{idrac_address}:{port}``), so anything a URL
parser reads as port, path, query, fragment or user info would redirect the login, password
included: ``127.20.0.1:19999/#`` sent it to another port and path. An iDRAC address is an IP
address or a DNS host name and nothing else; a vCenter address is an https URL (a bare host
name is short for ``https://host/sdk``). Errors never repeat the value: it may be a secret
pasted into the wrong field.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_URL_PATH = re.compile(r"^(/[A-Za-z0-9._~-]*)*$")
MAX_HOST_NAME = 253

HOST_RULE = "an IP address or a DNS host name (letters, digits, hyphens, dots; no port or path)"


def check_host(value: str) -> str:
    """The address itself, IPv6 in brackets (as a URL needs it); ValueError otherwise."""
    bracketed = value.startswith("[") and value.endswith("]")
    bare = value[1:-1] if bracketed else value
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        ip = None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            raise ValueError("must be an IPv6 address without a zone (%...)")
        return f"[{ip.compressed}]"
    if ip is not None and not bracketed:
        return str(ip)
    labels = value.removesuffix(".").split(".")
    valid = (
        not bracketed
        and len(value) <= MAX_HOST_NAME
        and all(_LABEL.match(label) for label in labels)
        and not labels[-1].isdigit()  # 300.1.1.1 or 010.1.1.1: a mistyped IP, not a name
    )
    if not valid:
        raise ValueError(f"must be {HOST_RULE}")
    return value


def check_https_url(value: str) -> str:
    """An https URL of a host (optional port and plain path); a bare host means https."""
    parts = urlsplit(value if "://" in value else f"https://{value}")
    if parts.scheme != "https":
        raise ValueError("must be an https:// URL or a host name")
    if "@" in parts.netloc or parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError("must not contain user info, a query or a fragment")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or parts.netloc.endswith(":"):
        raise ValueError("must have a port between 1 and 65535, if any")
    host = parts.netloc.rsplit(":", 1)[0] if port else parts.netloc
    if not host or not _URL_PATH.match(parts.path):
        raise ValueError(f"must name a host ({HOST_RULE}) and at most a plain path")
    check_host(host)
    return value
