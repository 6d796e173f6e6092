"""vcsim: pyvmomi logs in and sees the fleet file's Dell hosts, service tags and clusters."""

from __future__ import annotations

import ssl

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim

from simulators.fleet import Fleet
from simulators.vcsim.harness import VcsimProcess


def test_pyvmomi_lists_hosts_with_service_tags(vcsim: VcsimProcess, example_fleet: Fleet) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the harness's self-signed certificate
    si = SmartConnect(
        host=vcsim.host,
        port=vcsim.port,
        user=example_fleet.vcenter.username,
        pwd=example_fleet.vcenter.password,
        sslContext=context,
    )
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
        seen = {}
        for host in view.view:
            info = host.hardware.systemInfo
            tags = [
                o.identifierValue
                for o in info.otherIdentifyingInfo
                if o.identifierType.key == "ServiceTag"
            ]
            seen[host.name] = (
                host.parent.name,
                info.vendor,
                info.model,
                tags,
                info.serialNumber,
                len(host.vm),
            )
        clusters = {
            c.name: c.configurationEx
            for c in content.viewManager.CreateContainerView(
                content.rootFolder, [vim.ClusterComputeResource], True
            ).view
        }
    finally:
        Disconnect(si)

    expected = {
        h.name: (c.name, "Dell Inc.", h.model, [h.service_tag], h.service_tag, len(c.vms_of(h)))
        for _, c, h in example_fleet.hosts()
    }
    assert seen == expected
    assert clusters["ams-edge"].drsConfig.defaultVmBehavior == "manual"
    assert clusters["ams-prod"].dasConfig.admissionControlPolicy.failoverLevel == 1
    assert clusters["nyc-prod"].dasConfig.admissionControlPolicy.cpuFailoverResourcesPercent == 33
