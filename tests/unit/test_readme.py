"""README's configuration table lists every setting the service reads."""

from __future__ import annotations

from pathlib import Path

from common.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented() -> None:
    text = README.read_text()
    missing = [
        f"IDRAC_ORCH_{name.upper()}"
        for name in Settings.model_fields
        if f"`IDRAC_ORCH_{name.upper()}`" not in text
    ]
    assert missing == []
