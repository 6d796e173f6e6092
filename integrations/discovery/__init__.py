"""Finding Redfish services on explicit address ranges, and judging their TLS certificates."""
