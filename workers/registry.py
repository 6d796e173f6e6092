"""What each task queue's worker runs. New workflows and activities are added here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client

from activities.campaign_plan import CampaignPlanActivities
from activities.campaign_store import CampaignStoreActivities
from activities.discovery import DiscoveryActivities
from activities.inventory import InventoryActivities
from activities.notify import NotifyActivities
from activities.onboarding import OnboardingActivities
from activities.redfish_host import RedfishActivities
from activities.resources import Resources
from activities.selftest import probe_redfish_queue, probe_vcenter_queue
from activities.supervision import SupervisionActivities
from activities.vcenter_host import VcenterActivities
from activities.vcenter_sync import VcenterSyncActivities
from domain.temporal_names import TaskQueue
from workflows.campaign import CampaignWorkflow
from workflows.cluster import ClusterRolloutWorkflow
from workflows.discovery import DiscoveryWorkflow
from workflows.host import HostUpdateWorkflow
from workflows.inventory_sweep import InventorySweepWorkflow
from workflows.notify_publish import NotificationPublishWorkflow
from workflows.onboarding import OnboardingValidationWorkflow
from workflows.selftest import SelfTestWorkflow
from workflows.vcenter_sync import VcenterSyncWorkflow

STORE_CONCURRENCY = 8
REDFISH_CONCURRENCY = 200  # async: one iDRAC each, cheap on the worker
SUPERVISION_CONCURRENCY = 200  # async: one watch per running campaign, mostly asleep
NOTIFY_CONCURRENCY = 8  # threads: a send may wait out a receiver's backoff


@dataclass(frozen=True)
class QueueSpec:
    queue: TaskQueue
    concurrency: int
    workflows: Sequence[type] = ()
    activities: Sequence[Callable[..., Any]] = ()
    threaded: bool = False  # sync activities: they run on a thread pool of `concurrency`


def queue_specs(resources: Resources, client: Client) -> list[QueueSpec]:
    supervision = SupervisionActivities(client)
    discovery = DiscoveryActivities(resources)
    onboarding = OnboardingActivities(resources)
    vcenter_sync = VcenterSyncActivities(resources)
    inventory = InventoryActivities(resources)
    return [
        QueueSpec(
            TaskQueue.CAMPAIGNS,
            STORE_CONCURRENCY,
            workflows=(
                SelfTestWorkflow,
                CampaignWorkflow,
                ClusterRolloutWorkflow,
                HostUpdateWorkflow,
                DiscoveryWorkflow,
                OnboardingValidationWorkflow,
                VcenterSyncWorkflow,
                InventorySweepWorkflow,
            ),
            activities=(
                *CampaignPlanActivities(resources).all(),
                *CampaignStoreActivities(resources).all(),
                supervision.read_clock,  # a local activity: it runs beside the workflows
                *discovery.storing(),
                *onboarding.storing(),
                *vcenter_sync.storing(),
                *inventory.storing(),
            ),
            threaded=True,
        ),
        QueueSpec(
            TaskQueue.REDFISH,
            REDFISH_CONCURRENCY,
            activities=(
                probe_redfish_queue,
                *RedfishActivities(resources).all(),
                *discovery.scanning(),
                *onboarding.reading(),
                *inventory.reading(),
            ),
        ),
        QueueSpec(
            TaskQueue.VCENTER,
            resources.settings.vcenter_concurrency,  # small: vCenter is shared
            activities=(
                probe_vcenter_queue,
                *VcenterActivities(resources).all(),
                *vcenter_sync.reading(),
            ),
            threaded=True,
        ),
        QueueSpec(
            TaskQueue.SUPERVISION,
            SUPERVISION_CONCURRENCY,
            activities=(
                supervision.watch_rollouts,
                supervision.end_rollout,
                supervision.end_runbook,
            ),
        ),
        QueueSpec(
            TaskQueue.NOTIFY,
            NOTIFY_CONCURRENCY,
            workflows=(NotificationPublishWorkflow,),
            activities=tuple(NotifyActivities(resources).all()),
            threaded=True,
        ),
    ]
