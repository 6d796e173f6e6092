"""Names shared by workflows, workers, the API and the dev server: task queues and
the custom search attributes the Temporal Web UI filters campaigns by."""

from __future__ import annotations

import re
from enum import StrEnum

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes


class TaskQueue(StrEnum):
    CAMPAIGNS = "campaigns"  # workflows
    REDFISH = "redfish"  # async Redfish activities
    VCENTER = "vcenter"  # sync pyvmomi activities on a small thread pool
    SUPERVISION = "supervision"  # long watches over workflows, through the Temporal client
    NOTIFY = "notifications"  # sync notification sends, apart: a slow receiver stalls nothing


def campaign_workflow_id(campaign_id: int) -> str:
    return f"campaign-{campaign_id}"


def cluster_workflow_id(campaign_id: int, cluster: str) -> str:
    return f"{campaign_workflow_id(campaign_id)}-cluster-{cluster}"


def host_workflow_id(campaign_id: int, service_tag: str) -> str:
    return f"{campaign_workflow_id(campaign_id)}-host-{service_tag}"


_HOST_WORKFLOW_ID = re.compile(r"campaign-(\d+)-host-")


def campaign_of_host_workflow(workflow_id: str) -> int | None:
    """The campaign a host workflow runs for (the inverse of ``host_workflow_id``): host
    activities learn it from the workflow that ran them, not from their requests."""
    found = _HOST_WORKFLOW_ID.match(workflow_id)
    return int(found.group(1)) if found else None


CAMPAIGN_ID = SearchAttributeKey.for_keyword("CampaignId")
CAMPAIGN_STATUS = SearchAttributeKey.for_keyword("CampaignStatus")
CLUSTER_NAME = SearchAttributeKey.for_keyword("ClusterName")
SERVICE_TAG = SearchAttributeKey.for_keyword("ServiceTag")

SEARCH_ATTRIBUTES: tuple[SearchAttributeKey, ...] = (
    CAMPAIGN_ID,
    CAMPAIGN_STATUS,
    CLUSTER_NAME,
    SERVICE_TAG,
)


def rollout_search_attributes(
    campaign_id: int, cluster: str, service_tag: str | None = None
) -> TypedSearchAttributes:
    """What cluster and host runs carry, so the Web UI filters a campaign's whole tree."""
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(CAMPAIGN_ID, str(campaign_id)),
        SearchAttributePair(CLUSTER_NAME, cluster),
    ]
    if service_tag is not None:
        pairs.append(SearchAttributePair(SERVICE_TAG, service_tag))
    return TypedSearchAttributes(pairs)
