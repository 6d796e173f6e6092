"""Where a login may send the browser next: only inside the console."""

from __future__ import annotations

import pytest

from console.forms import local_path


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/ui/campaigns/3", "/ui/campaigns/3"),
        ("/ui/fleet?cluster_id=2", "/ui/fleet?cluster_id=2"),
        (None, "/ui/fleet"),
        ("", "/ui/fleet"),
        ("https://evil.example/ui/x", "/ui/fleet"),
        ("//evil.example/ui/x", "/ui/fleet"),
        ("/auth/tokens", "/ui/fleet"),
        ("javascript:alert(1)", "/ui/fleet"),
    ],
)
def test_next_page_stays_in_the_console(target: str | None, expected: str) -> None:
    assert local_path(target) == expected
