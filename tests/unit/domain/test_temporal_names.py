"""Host activities read their campaign from the host workflow's id."""

from __future__ import annotations

from domain.temporal_names import (
    campaign_of_host_workflow,
    campaign_workflow_id,
    cluster_workflow_id,
    host_workflow_id,
)


def test_the_campaign_of_a_host_workflow_is_read_back_from_its_id() -> None:
    assert campaign_of_host_workflow(host_workflow_id(42, "AB-C12")) == 42
    assert campaign_of_host_workflow(cluster_workflow_id(42, "alpha-host-x")) is None
    assert campaign_of_host_workflow(campaign_workflow_id(42)) is None
    assert campaign_of_host_workflow("") is None
