"""Health parsing: what a BMC without Dell OEM or without Thermal/Power still yields."""

from __future__ import annotations

from integrations.redfish.health import rollups, sensors


def test_a_generic_bmc_has_only_the_standard_summaries() -> None:
    system = {
        "Status": {"Health": "OK", "HealthRollup": "Warning"},
        "MemorySummary": {"Status": {"Health": "Warning"}},
        "ProcessorSummary": {"Status": {}},
    }
    assert rollups(system) == {"memory": "Warning"}


def test_dell_rollups_name_their_subsystem() -> None:
    dell = {"FanRollupStatus": "Critical", "PSRollupStatus": "OK", "SysMemPrimaryStatus": "OK"}
    system = {"Oem": {"Dell": {"DellSystem": dell}}}
    assert rollups(system) == {"fans": "Critical", "power_supplies": "OK", "memory": "OK"}


def test_sensors_keep_readings_units_and_health_and_tolerate_gaps() -> None:
    thermal = {
        "Temperatures": [{"Name": "Inlet", "ReadingCelsius": 21, "Status": {"Health": "OK"}}],
        "Fans": [{"MemberId": "Fan1", "Reading": None, "ReadingUnits": "RPM"}],
    }
    found = sensors(thermal, {})
    assert [(s.kind, s.name, s.reading, s.units, s.health) for s in found] == [
        ("temperature", "Inlet", 21.0, "Cel", "OK"),
        ("fan", "Fan1", None, "RPM", None),
    ]
    assert sensors({}, {}) == []
