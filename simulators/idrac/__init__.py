"""Dell iDRAC9 Redfish fleet simulator (see docs/redfish.md)."""
