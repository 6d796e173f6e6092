#!/bin/sh
# The namespace (the server image creates none) and the search attributes the Web UI
# filters campaigns by. Idempotent: "already exists" is fine.
set -u
tries=0
until temporal operator cluster health 2>/dev/null | grep -q SERVING; do
  tries=$((tries + 1)); [ "$tries" -lt 90 ] || { echo "Temporal did not come up" >&2; exit 1; }
  sleep 2
done
ns="$IDRAC_ORCH_TEMPORAL_NAMESPACE"
temporal operator namespace describe --namespace "$ns" >/dev/null 2>&1 \
  || temporal operator namespace create --namespace "$ns" --retention "$TEMPORAL_RETENTION" || exit 1
for sa in CampaignId CampaignStatus ClusterName ServiceTag; do
  temporal operator search-attribute create --namespace "$ns" --name "$sa" --type Keyword || true
done
