"""Activity names: the contract between workflows and the activity implementations.

Workflows call activities by these names (so the workflow sandbox never imports httpx,
pyvmomi or SQLAlchemy); workers register implementations under the same names.
"""

from __future__ import annotations

from enum import StrEnum


class Redfish(StrEnum):
    """Async activities on the ``redfish`` task queue."""

    PREFLIGHT = "idrac_preflight"
    STAGE_FIRMWARE = "stage_firmware"
    REBOOT_HOST = "reboot_host"
    VERIFY_FIRMWARE = "verify_firmware"
    ROLLBACK_FIRMWARE = "rollback_firmware"
    READ_FIRMWARE = "read_firmware"
    HEALTH = "idrac_health"


class Vcenter(StrEnum):
    """Sync pyvmomi activities on the ``vcenter`` task queue."""

    PREFLIGHT = "vcenter_preflight"
    ENTER_MAINTENANCE = "enter_maintenance"
    EXIT_MAINTENANCE = "exit_maintenance"
    WAIT_RECONNECTED = "wait_host_reconnected"
    RETURN_VMS = "return_vms"
    CAPACITY = "cluster_capacity"


class Store(StrEnum):
    """Activities writing to the store, on the ``campaigns`` task queue."""

    PLAN_CAMPAIGN = "plan_campaign"
    RECORD_HOST_OUTCOME = "record_host_outcome"
    RAISE_ALERT = "raise_alert"
    RECORD_REQUEUE = "record_host_requeue"
    RAISE_CLUSTER_ALERT = "raise_cluster_alert"


class Supervise(StrEnum):
    """Activities that watch and end workflows from outside, on the ``campaigns`` queue."""

    READ_CLOCK = "read_clock"  # a local activity: wall time recorded in history
    WATCH_ROLLOUTS = "watch_rollouts"
    END_ROLLOUT = "end_rollout"
    END_RUNBOOK = "end_runbook"


class Discovery(StrEnum):
    """Discovery: scans on the ``redfish`` queue, store writes on ``campaigns``."""

    SCAN = "discovery_scan"
    FINISH = "discovery_finish"
    VALIDATED = "discovery_validated"
    FAIL = "discovery_fail"


class Onboarding(StrEnum):
    """Validation: the list on ``campaigns``, the iDRAC reads on ``redfish``."""

    LIST_ENROLLMENTS = "onboarding_list_enrollments"
    VALIDATE_BATCH = "onboarding_validate_batch"


class VcenterSync(StrEnum):
    """vCenter sync: run records on ``campaigns``, the read-and-apply on ``vcenter``."""

    START_SCHEDULED = "vcenter_sync_start_scheduled"
    SYNC = "vcenter_sync"
    FAIL = "vcenter_sync_fail"


class Inventory(StrEnum):
    """Inventory sweeps: the records on ``campaigns``, the iDRAC reads on ``redfish``."""

    BEGIN = "inventory_sweep_begin"
    READ_BATCH = "inventory_sweep_read_batch"
    FINISH = "inventory_sweep_finish"
    FAIL = "inventory_sweep_fail"


class Notify(StrEnum):
    """Notifications: record an event and deliver it, on the ``notifications`` queue."""

    PUBLISH = "notify_publish"
