"""Async Redfish client for Dell iDRAC9 and generic Redfish BMCs (see docs/redfish.md)."""
