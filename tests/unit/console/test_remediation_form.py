"""The remediation form reads into the API's request; its errors name the field."""

from __future__ import annotations

import pytest

from console.remediation_form import FormErrors, RemediationForm


def test_filled_fields_reach_the_api_request_and_empty_ones_take_its_defaults() -> None:
    form = RemediationForm.read(
        {
            "name": " fix ",
            "max_concurrent_per_cluster": "2",
            "min_hosts_online": "",
            "on_failure": "rollback",
        },
        ["4", " ", "7"],
    )
    body = form.request()
    assert body.name == "fix"
    assert body.policy.max_concurrent_per_cluster == 2
    assert body.policy.min_hosts_online == 2  # the API's default
    assert body.policy.on_failure == "rollback"
    assert body.window_ids == [4, 7]


def test_each_mistake_names_its_field() -> None:
    form = RemediationForm.read(
        {"max_concurrent_per_cluster": "0", "min_hosts_online": "many", "on_failure": "pray"},
        ["x"],
    )
    with pytest.raises(FormErrors) as raised:
        form.request()
    by_field = dict(message.split(": ", 1) for message in raised.value.messages)
    assert sorted(by_field) == [
        "max_concurrent_per_cluster",
        "min_hosts_online",
        "on_failure",
        "window_ids",
    ]
    assert "greater than or equal to 1" in by_field["max_concurrent_per_cluster"]
