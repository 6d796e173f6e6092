"""slapd: ldap3 binds as a seeded user and finds the user's groups on a private server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ldap3 import Connection, Server
from ldap3.core.exceptions import LDAPBindError

from tests.services.slapd import Slapd, running_slapd

BASE = "dc=example,dc=test"
SEED = f"""dn: {BASE}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,{BASE}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{BASE}
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,{BASE}
objectClass: inetOrgPerson
uid: alice
cn: Alice Operator
sn: Operator
userPassword: alice-pass

dn: uid=bob,ou=people,{BASE}
objectClass: inetOrgPerson
uid: bob
cn: Bob Viewer
sn: Viewer
userPassword: bob-pass

dn: cn=fw-operators,ou=groups,{BASE}
objectClass: groupOfNames
cn: fw-operators
member: uid=alice,ou=people,{BASE}

dn: cn=fw-viewers,ou=groups,{BASE}
objectClass: groupOfNames
cn: fw-viewers
member: uid=alice,ou=people,{BASE}
member: uid=bob,ou=people,{BASE}
"""


@pytest.fixture(scope="module")
def directory() -> Iterator[Slapd]:
    with running_slapd(SEED, BASE) as slapd:
        yield slapd


def _groups_of(directory: Slapd, user: str, password: str) -> list[str]:
    server = Server(directory.host, port=directory.port)
    user_dn = f"uid={user},ou=people,{BASE}"
    with Connection(server, user=user_dn, password=password, auto_bind=True) as conn:
        conn.search(f"ou=groups,{BASE}", f"(member={user_dn})", attributes=["cn"])
        return sorted(str(entry.cn) for entry in conn.entries)


def test_user_binds_and_groups_are_found(directory: Slapd) -> None:
    assert _groups_of(directory, "alice", "alice-pass") == ["fw-operators", "fw-viewers"]
    assert _groups_of(directory, "bob", "bob-pass") == ["fw-viewers"]


def test_wrong_password_is_refused(directory: Slapd) -> None:
    with pytest.raises(LDAPBindError):
        _groups_of(directory, "alice", "not-her-password")
