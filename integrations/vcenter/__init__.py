"""vCenter adapter (pyvmomi, synchronous): inventory, capacity, maintenance mode."""

from integrations.vcenter.capacity import cluster_capacity, cluster_facts
from integrations.vcenter.client import VCenterClient, VCenterSettings
from integrations.vcenter.errors import (
    MaintenanceBlockedError,
    MaintenanceTimeoutError,
    NotFoundError,
    ReconnectTimeoutError,
    TaskFailedError,
    VCenterConnectionError,
    VCenterError,
)
from integrations.vcenter.evacuation import return_vms
from integrations.vcenter.inventory import read_inventory, read_scope
from integrations.vcenter.maintenance import enter_maintenance, exit_maintenance
from integrations.vcenter.preflight import MaintenanceOptions, preflight_enter
from integrations.vcenter.reboot import wait_for_reboot

__all__ = [
    "MaintenanceBlockedError",
    "MaintenanceOptions",
    "MaintenanceTimeoutError",
    "NotFoundError",
    "ReconnectTimeoutError",
    "TaskFailedError",
    "VCenterClient",
    "VCenterConnectionError",
    "VCenterError",
    "VCenterSettings",
    "cluster_capacity",
    "cluster_facts",
    "enter_maintenance",
    "exit_maintenance",
    "preflight_enter",
    "read_inventory",
    "read_scope",
    "return_vms",
    "wait_for_reboot",
]
