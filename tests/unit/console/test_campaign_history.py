"""Step bars from a runbook's history: activities mapped to steps, compensation after a
failure, pieces merged, steps run at once in tracks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import ActivityType
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import (
    ActivityTaskCompletedEventAttributes,
    ActivityTaskFailedEventAttributes,
    ActivityTaskScheduledEventAttributes,
    HistoryEvent,
)

from api.campaign_history import Interval, lay_out, runbook_intervals

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class History:
    """Builds a history the way the server records it: scheduled, then a close event."""

    def __init__(self) -> None:
        self.events: list[HistoryEvent] = []

    def _add(self, seconds: float, kind: EventType.ValueType, **attrs: object) -> int:
        stamp = Timestamp()
        stamp.FromDatetime(at(seconds))
        event_id = len(self.events) + 1
        self.events.append(
            HistoryEvent(event_id=event_id, event_time=stamp, event_type=kind, **attrs)
        )
        return event_id

    def activity(self, name: str, start: float, end: float | None, failed: bool = False) -> None:
        scheduled = self._add(
            start,
            EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
            activity_task_scheduled_event_attributes=ActivityTaskScheduledEventAttributes(
                activity_type=ActivityType(name=name)
            ),
        )
        if end is None:
            return
        if failed:
            self._add(
                end,
                EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
                activity_task_failed_event_attributes=ActivityTaskFailedEventAttributes(
                    scheduled_event_id=scheduled
                ),
            )
        else:
            self._add(
                end,
                EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
                activity_task_completed_event_attributes=ActivityTaskCompletedEventAttributes(
                    scheduled_event_id=scheduled
                ),
            )


def test_a_runbook_s_activities_become_its_steps_with_tracks_for_steps_at_once() -> None:
    history = History()
    history.activity("enter_maintenance", 0, 10)
    history.activity("stage_firmware", 0, 6)
    history.activity("reboot_host", 10, 30)
    history.activity("verify_firmware", 30, 40)
    history.activity("wait_host_reconnected", 30, 35)
    history.activity("idrac_health", 30, 33)
    history.activity("exit_maintenance", 40, 42)
    history.activity("return_vms", 42.5, 45)  # same step, one workflow task later
    bars = [
        (b.step, b.start, b.end, b.track, b.tracks)
        for b in lay_out(runbook_intervals(history.events))
    ]
    assert bars == [
        ("enter_maintenance", at(0), at(10), 0, 2),
        ("stage_firmware", at(0), at(6), 1, 2),
        ("reboot", at(10), at(30), 0, 1),
        ("verify", at(30), at(40), 0, 3),
        ("wait_reconnect", at(30), at(35), 1, 3),
        ("post_health", at(30), at(33), 2, 3),
        ("exit_maintenance", at(40), at(45), 0, 1),
    ]


def test_after_a_failed_step_the_undo_is_compensation_and_open_steps_stay_open() -> None:
    history = History()
    history.activity("enter_maintenance", 0, 5)
    history.activity("stage_firmware", 0, 4)
    history.activity("reboot_host", 5, 20, failed=True)
    history.activity("idrac_health", 21, 22)  # leave_maintenance's check, not post_health
    history.activity("rollback_firmware", 22, None)
    steps = [(b.step, b.end) for b in lay_out(runbook_intervals(history.events))]
    assert steps[-2:] == [("reboot", at(20)), ("compensate", None)]
    assert "post_health" not in {step for step, _ in steps}


def test_pieces_of_a_step_far_apart_stay_two_bars() -> None:
    bars = lay_out([Interval("preflight", at(0), at(3)), Interval("preflight", at(600), at(602))])
    assert [(b.start, b.end, b.tracks) for b in bars] == [(at(0), at(3), 1), (at(600), at(602), 1)]
