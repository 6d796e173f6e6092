"""Error envelopes as iDRACs really send them, and client option validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from integrations.redfish.errors import RedfishError, first_message
from integrations.redfish.models import ClientOptions


def test_extended_info_list() -> None:
    body = {"error": {"code": "Base.1.12.GeneralError", "@Message.ExtendedInfo": [
        {"MessageId": "IDRAC.2.8.SUP024", "Message": "InstanceID value ... invalid",
         "MessageArgs": "[]"}]}}  # fmt: skip
    assert first_message(body) == ("IDRAC.2.8.SUP024", "InstanceID value ... invalid")


def test_extended_info_single_object() -> None:
    """iDRAC sometimes sends @Message.ExtendedInfo as one object, not a list."""
    body = {"error": {"@Message.ExtendedInfo": {"MessageId": "IDRAC.2.1.RAC0218", "Message": "m"}}}
    assert first_message(body) == ("IDRAC.2.1.RAC0218", "m")


def test_error_without_extended_info_uses_the_code() -> None:
    assert first_message({"error": {"code": "Base.1.0.InternalError", "message": "x"}}) == (
        "Base.1.0.InternalError",
        "x",
    )


def test_message_ids_match_on_suffix_whatever_the_registry_prefix() -> None:
    for message_id in ("IDRAC.2.1.SUP024", "IDRAC.2.8.SUP024", "iDRAC.1.6.SUP024"):
        assert RedfishError("x", message_id=message_id).has_message_id("SUP024")
    assert not RedfishError("x", message_id="IDRAC.2.8.SUP0240").has_message_id("SUP024")


def test_error_text_names_the_host() -> None:
    assert str(RedfishError("job failed", host="127.20.0.1")) == "127.20.0.1: job failed"


def test_missing_ca_bundle_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is not a readable file"):
        ClientOptions(ca_bundle=tmp_path / "nope.pem")


def test_verification_is_on_by_default() -> None:
    options = ClientOptions()
    assert not options.insecure and options.ca_bundle is None
