"""Inventory read of a large vcsim topology: 50 clusters, 1,000 hosts, 10,000 VMs.

    .venv/bin/python -m benchmarks.vcenter_inventory [--clusters 50 --hosts-per-cluster 20
        --vms-per-host 10]

Building the simulated inventory is not timed; the timed part is one read_inventory()
through a fresh client. The last stdout line is JSON: wall_s, round_trips, peak_rss_mb
(of this Python process: the client's memory, not vcsim's).
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from pydantic import SecretStr

from integrations.vcenter import VCenterClient, VCenterSettings, read_inventory
from simulators.fleet import Fleet
from simulators.vcsim.harness import VcsimProcess
from tests.services.ports import free_port


def big_fleet(clusters: int, hosts_per_cluster: int, vms_per_host: int) -> Fleet:
    def host(c: int, h: int) -> dict[str, object]:
        return {"name": f"esx-{c:02d}-{h:03d}.bench.test", "service_tag": f"B{c:02d}{h:03d}"}

    return Fleet.model_validate(
        {
            "datacenters": [
                {
                    "name": "dc-bench",
                    "clusters": [
                        {
                            "name": f"cluster-{c:02d}",
                            "vms_per_host": vms_per_host,
                            "hosts": [host(c, h) for h in range(hosts_per_cluster)],
                        }
                        for c in range(clusters)
                    ],
                }
            ]
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--hosts-per-cluster", type=int, default=20)
    parser.add_argument("--vms-per-host", type=int, default=10)
    args = parser.parse_args()
    fleet = big_fleet(args.clusters, args.hosts_per_cluster, args.vms_per_host)

    started = time.perf_counter()
    with VcsimProcess(fleet, port=free_port(), ready_timeout_s=1800) as vcsim:
        setup_s = time.perf_counter() - started
        settings = VCenterSettings(
            url=vcsim.url,
            username=fleet.vcenter.username,
            password=SecretStr(fleet.vcenter.password),
            insecure=True,  # the simulator's self-signed certificate; speed is measured here
        )
        with VCenterClient(settings) as client:
            before = client.round_trips
            began = time.perf_counter()
            inventory = read_inventory(client)
            wall_s = time.perf_counter() - began
            round_trips = client.round_trips - before
    hosts = inventory.hosts()
    result = {
        "wall_s": round(wall_s, 3),
        "round_trips": round_trips,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "clusters": len(inventory.clusters()),
        "hosts": len(hosts),
        "vms": sum(len(h.vms) for h in hosts),
        "setup_s": round(setup_s, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
