"""The domain modules import and run inside Temporal's workflow sandbox (no server needed)."""

from __future__ import annotations

from temporalio import workflow
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from tests.unit.domain.sandbox_probe import PROBE, DomainProbeWorkflow


async def test_domain_modules_validate_in_the_workflow_sandbox() -> None:
    # Raises if the sandboxed re-import (which runs the probe calls) hits a restriction.
    SandboxedWorkflowRunner().prepare_workflow(
        workflow._Definition.must_from_class(DomainProbeWorkflow)
    )
    assert PROBE.startswith("outside window; next opens 2026-11-28 02:00 Europe/Amsterdam")
