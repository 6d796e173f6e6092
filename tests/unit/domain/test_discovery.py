"""Discovery's pure parts: which addresses a request scans, generations, and the diff."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.discovery import (
    CHUNK_SIZE,
    DiscoveryRequest,
    chunk_addresses,
    chunk_count,
    diff_endpoints,
    idrac_generation,
    in_ranges,
    target_addresses,
)


def test_ranges_minus_exclusions_each_address_once() -> None:
    request = DiscoveryRequest(
        ranges=["127.0.9.0/29", "127.0.9.3", "127.0.10.7/32"], exclude=["127.0.9.4/30"]
    )
    # A /29's network and broadcast addresses are skipped; a single address is kept.
    assert target_addresses(request) == ["127.0.9.1", "127.0.9.2", "127.0.9.3", "127.0.10.7"]
    assert in_ranges("127.0.9.2", request)
    assert not in_ranges("127.0.9.5", request)  # excluded
    assert not in_ranges("127.0.11.1", request)


def test_large_ranges_are_chunked_without_loss() -> None:
    request = DiscoveryRequest(ranges=["127.30.0.0/18"])
    addresses = target_addresses(request)
    assert len(addresses) == 16_382
    chunks = [chunk_addresses(request, i) for i in range(chunk_count(request))]
    assert [len(c) for c in chunks[:-1]] == [CHUNK_SIZE] * (len(chunks) - 1)
    assert [a for c in chunks for a in c] == addresses


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        ({"ranges": []}, ("ranges",), "at least 1 item"),
        ({"ranges": ["127.0.0.5/24"]}, ("ranges", 0), "host bits set"),
        ({"ranges": ["127.0.0.0/24", "nope"]}, ("ranges", 1), "not an IP address or CIDR"),
        ({"ranges": ["127.0.0.0/24"], "exclude": ["x"]}, ("exclude", 0), "not an IP address"),
        ({"ranges": ["10.0.0.0/8"]}, (), "more than 65536 allowed"),
        ({"ranges": ["127.0.0.1"], "exclude": ["127.0.0.0/24"]}, (), "every address is excluded"),
        ({"ranges": ["127.0.0.1"], "concurrency": 0}, ("concurrency",), "greater than or equal"),
    ],
)
def test_bad_requests_name_the_field(body: dict, where: tuple, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DiscoveryRequest.model_validate(body)
    error = caught.value.errors()[0]
    assert error["loc"] == where
    assert message in error["msg"]


@pytest.mark.parametrize(
    ("model", "firmware", "generation"),
    [
        ("14G Monolithic", "4.40.00.00", "iDRAC9"),
        ("16G DCS", "7.10.30.00", "iDRAC9"),
        ("13G Monolithic", "2.83.83.83", "iDRAC8"),
        ("12G Modular", "1.66.65", "iDRAC7"),
        ("17G Monolithic", "1.10.0.0", "iDRAC10"),
        (None, "6.10.00.00", "iDRAC9"),
        (None, "2.70.70.70", "iDRAC8"),
        (None, "1.20.00.00", None),  # iDRAC7 or iDRAC10: no guess
    ],
)
def test_idrac_generation(model: str | None, firmware: str, generation: str | None) -> None:
    assert idrac_generation(model, firmware) == generation


def test_diff_names_new_gone_and_changed_fields() -> None:
    before = {
        "127.0.0.2": {"service_tag": "AAA1111", "firmware_version": "7.00"},
        "127.0.0.10": {"service_tag": "BBB2222", "firmware_version": "7.00"},
        "127.0.0.3": {"service_tag": "CCC3333", "firmware_version": "7.00"},
    }
    after = {
        "127.0.0.2": {"service_tag": "AAA1111", "firmware_version": "7.10"},
        "127.0.0.3": {"service_tag": None, "firmware_version": "7.00"},  # not read: no change
        "127.0.0.4": {"service_tag": "DDD4444", "firmware_version": "7.00"},
    }
    diff = diff_endpoints(before, after)
    assert diff.new == ["127.0.0.4"]
    assert diff.gone == ["127.0.0.10"]
    assert [(c.address, c.fields) for c in diff.changed] == [
        ("127.0.0.2", {"firmware_version": ("7.00", "7.10")})
    ]
    assert diff.unchanged == 1
