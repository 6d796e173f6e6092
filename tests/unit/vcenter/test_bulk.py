"""The scalar reader's XML handling, on a PropertyCollector answer as vCenter sends it."""

from __future__ import annotations

import pytest

from integrations.vcenter.bulk import _parse

ANSWER = b"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsd="http://www.w3.org/2001/XMLSchema"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>
<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>
<token>page-2</token>
<objects><obj type="VirtualMachine">vm-7</obj>
<propSet><name>name</name><val xsi:type="xsd:string">db-01</val></propSet>
<propSet><name>runtime.host</name>
  <val type="HostSystem" xsi:type="ManagedObjectReference">host-3</val></propSet>
<propSet><name>runtime.powerState</name>
  <val xsi:type="VirtualMachinePowerState">poweredOn</val></propSet>
<propSet><name>summary.config.memorySizeMB</name><val xsi:type="xsd:int">4096</val></propSet>
<propSet><name>summary.runtime.consolidationNeeded</name>
  <val xsi:type="xsd:boolean">false</val></propSet>
</objects></returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>"""


def test_scalars_are_typed_and_references_become_moids() -> None:
    objects, token = _parse(ANSWER)
    assert token == "page-2"
    assert [(o.kind, o.moid) for o in objects] == [("VirtualMachine", "vm-7")]
    assert objects[0].props == {
        "name": "db-01",
        "runtime.host": "host-3",
        "runtime.powerState": "poweredOn",
        "summary.config.memorySizeMB": 4096,
        "summary.runtime.consolidationNeeded": False,
    }


def test_complex_values_are_refused_not_misread() -> None:
    nested = ANSWER.replace(
        b'<val xsi:type="xsd:string">db-01</val>',
        b'<val xsi:type="VirtualMachineConfigSummary"><name>db-01</name></val>',
    )
    with pytest.raises(ValueError, match="VirtualMachineConfigSummary is not a scalar"):
        _parse(nested)
