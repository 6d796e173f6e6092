"""A signed package link opens exactly one package, for one campaign, until it expires."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.package_links import PackageLink, refusal

KEY, OLD_KEY = b"k" * 32, b"o" * 32
SHA = "ab" * 32
LINK = PackageLink(3, SHA, "BIOS_R650_2.19.1.EXE", 1_000)


def test_a_fresh_link_is_served_and_names_the_file_last() -> None:
    path = LINK.path(KEY)
    assert path.startswith("/repository/c/3/1000/") and path.endswith(
        f"/{SHA}/BIOS_R650_2.19.1.EXE"
    )
    assert refusal(LINK, LINK.signature(KEY), [KEY], now=999) is None


def test_expired_links_are_refused_with_the_reason() -> None:
    assert "expired" in (refusal(LINK, LINK.signature(KEY), [KEY], now=1_001) or "")


def test_a_link_signed_before_a_key_rotation_still_opens() -> None:
    assert refusal(LINK, LINK.signature(OLD_KEY), [KEY, OLD_KEY], now=0) is None
    assert refusal(LINK, LINK.signature(OLD_KEY), [KEY], now=0) is not None
    assert refusal(LINK, LINK.signature(KEY), [], now=0) is not None  # no key: nothing opens


@given(
    campaign=st.integers(1, 10**6),
    sha=st.text("0123456789abcdef", min_size=64, max_size=64),
    expires=st.integers(0, 2**40),
)
def test_a_signature_opens_nothing_but_its_own_campaign_package_and_expiry(
    campaign: int, sha: str, expires: int
) -> None:
    other = PackageLink(campaign, sha, "X.EXE", expires)
    signature = LINK.signature(KEY)
    if (campaign, sha, expires) != (LINK.campaign_id, LINK.sha256, LINK.expires):
        assert refusal(other, signature, [KEY], now=0) is not None
