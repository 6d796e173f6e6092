"""Addresses that could redirect a login (port, path, fragment, user info) are refused."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app
from domain.addresses import check_host, check_https_url


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("10.1.2.3", "10.1.2.3"),
        ("idrac-r650-01.example.test", "idrac-r650-01.example.test"),
        ("localhost", "localhost"),
        ("fe80::1", "[fe80::1]"),
        ("[2001:db8::10]", "[2001:db8::10]"),
    ],
)
def test_hosts_accepted(given: str, kept: str) -> None:
    assert check_host(given) == kept


@pytest.mark.parametrize(
    "given",
    [
        "127.20.0.1:19999/#",  # the audit's: the login went to another port and path
        "10.1.2.3:443",
        "10.1.2.3/redfish",
        "user:pw@10.1.2.3",
        "evil.test#.example.test",
        "host?x=1",
        "300.1.1.1",
        "010.1.1.1",
        "-bad.example",
        "a..b",
        "[10.1.2.3]",
        "fe80::1%eth0",
        "with space",
        "",
        "x" * 64,
    ],
)
def test_hosts_refused_without_echoing_them(given: str) -> None:
    with pytest.raises(ValueError, match=r"IP address|IPv6") as caught:
        check_host(given)
    assert not given or given not in str(caught.value)


@pytest.mark.parametrize(
    "given",
    [
        "https://vc.example.test/sdk",
        "https://10.0.0.5:8989/sdk",
        "vc.example.test",
        "https://[::1]/sdk",
    ],
)
def test_vcenter_urls_accepted(given: str) -> None:
    assert check_https_url(given) == given


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("http://vc.example.test/sdk", "https"),
        ("https://admin:pw@vc.example.test/sdk", "user info"),
        ("https://vc.example.test/sdk#frag", "fragment"),
        ("https://vc.example.test/sdk?x=1", "query"),
        ("https://vc.example.test:0/sdk", "port"),
        ("https://vc.example.test:99999/sdk", "port"),
        ("https://vc.example.test:/sdk", "port"),
        ("https://vc.exa mple.test/sdk", "host"),
        ("https:///sdk", "host"),
    ],
)
def test_vcenter_urls_refused(given: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        check_https_url(given)
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize(
    "argv",
    [
        ["redfish", "inventory", "https://root:calvin@127.20.0.1:8443"],
        ["vcenter", "inventory", "https://vc.example.test/sdk#x"],
    ],
)
def test_cli_refuses_such_urls_before_connecting(argv: list[str]) -> None:
    result = CliRunner().invoke(app, [*argv, "--username", "u", "--password", "p"])
    assert result.exit_code == 2, result.output
    assert "user info, a query or a fragment" in result.output
    assert "calvin" not in result.output
