"""YAML alias bombs are refused before anything walks them; ordinary anchors still load."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cli.campaign import CliError, load_campaign_file
from common.safe_yaml import YamlTooLargeError, load


def alias_bomb(levels: int = 9) -> str:
    """The audit's 591-byte document: each level lists the previous one nine times."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_quickly() -> None:
    """Timing is the defect (> 60 s before): refusal must not walk the expansion. 5 s is
    far above the milliseconds the measurement takes and far below the blow-up."""
    started = time.perf_counter()
    with pytest.raises(YamlTooLargeError, match="alias"):
        load(alias_bomb())
    assert time.perf_counter() - started < 5


def test_recursive_aliases_are_refused() -> None:
    with pytest.raises(YamlTooLargeError, match="recursive"):
        load("a: &a [1, *a]\n")


def test_ordinary_anchors_load_as_usual() -> None:
    text = "base: &w {kind: weekly, start: '22:00'}\nwindows: [*w, *w]\n"
    assert load(text)["windows"] == [{"kind": "weekly", "start": "22:00"}] * 2
    assert load("") is None


def test_the_campaign_cli_refuses_a_bomb_as_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb())
    with pytest.raises(CliError, match="refused: expands to more than") as caught:
        load_campaign_file(path)
    assert caught.value.code == 2
