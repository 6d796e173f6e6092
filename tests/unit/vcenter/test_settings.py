"""Connection settings: bad input is refused with the field named; secrets never print."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from integrations.vcenter import VCenterSettings
from integrations.vcenter.client import fault_text, parse_url
from integrations.vcenter.inventory import service_tag


def _settings(**extra: object) -> VCenterSettings:
    base = {"url": "vc.example.test", "username": "u", "password": SecretStr("s3cret")}
    return VCenterSettings(**{**base, **extra})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("vc.lab.test", ("vc.lab.test", 443, "/sdk")),
        ("https://127.0.0.2:8989/sdk", ("127.0.0.2", 8989, "/sdk")),
        ("https://vc.lab.test:9443", ("vc.lab.test", 9443, "/sdk")),
    ],
)
def test_url_forms(url: str, expected: tuple[str, int, str]) -> None:
    assert parse_url(url) == expected


def test_plain_http_is_refused() -> None:
    with pytest.raises(ValueError, match="https only"):
        _settings(url="http://vc.lab.test/sdk")


def test_insecure_and_ca_bundle_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ca_bundle and insecure"):
        _settings(insecure=True, ca_bundle=tmp_path / "ca.pem")


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout_s must be positive"):
        _settings(timeout_s=0)


def test_password_does_not_print() -> None:
    assert "s3cret" not in repr(_settings())


def test_verification_is_on_by_default() -> None:
    import ssl

    context = _settings().ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


class _Ident:
    def __init__(self, key: str, value: str) -> None:
        self.identifierType = type("T", (), {"key": key})()
        self.identifierValue = value


class _SystemInfo:
    def __init__(self, idents: list[_Ident], serial: str | None) -> None:
        self.otherIdentifyingInfo = idents
        self.serialNumber = serial


def test_service_tag_prefers_the_service_tag_identifier() -> None:
    info = _SystemInfo([_Ident("AssetTag", "X"), _Ident("ServiceTag", " ABC1234 ")], "SER")
    assert service_tag(info) == "ABC1234"
    assert service_tag(_SystemInfo([], "SER99")) == "SER99"
    assert service_tag(_SystemInfo([], None)) is None


def test_fault_text_prefers_vcenter_messages() -> None:
    from pyVmomi import vim, vmodl

    fault = vim.fault.MigrationFault(
        faultMessage=[vmodl.LocalizableMessage(key="k", message="vm-1 cannot migrate")]
    )
    assert fault_text(fault) == "MigrationFault: vm-1 cannot migrate"
    assert fault_text(vmodl.fault.SystemError(reason="disk full")) == "SystemError: disk full"
