"""Property-based conformance: schemathesis generates requests from the live OpenAPI
document and checks every response. Zero 5xx, zero responses outside the documented
status codes, content types, headers and schemas, over at least 1,000 cases.

Runs against its own server and database, so the generated DELETEs and PATCHes cannot
disturb other tests' data. Requests are sent as the (nested-group) admin, which reaches
every handler; the role matrix covers the refusals.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from common.settings import Settings
from tests.integration.api.conftest import PASSWORDS, Api, serve
from tests.services.postgres import fresh_database

EXAMPLES_PER_OPERATION = 25
MIN_CASES = 1000
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_api(settings: Settings, temporal_namespaces: object) -> Iterator[Api]:
    with (
        fresh_database("idrac_orch_fuzz") as url,
        serve(settings.model_copy(update={"database_url": url})) as base,
    ):
        yield Api(base, settings)


def test_generated_requests_conform_to_the_schema(fuzz_api: Api) -> None:
    token = fuzz_api.login("carol", PASSWORDS["carol"])
    headers = {"Authorization": f"Bearer {token}"}
    # The audit event stream stays open while it follows the log: a request/response check
    # cannot wait for its end. Its role check and contents are tested in test_audit_stream.
    schema = schemathesis.openapi.from_url(f"{fuzz_api.url}/openapi.json").exclude(
        path="/audit/stream"
    )
    cases, failures, statuses = 0, [], {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            nonlocal cases
            cases += 1
            response = case.call(base_url=fuzz_api.url, headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as group:
                failures.append(f"{case.operation.label}: {group}"[:2000])
            except AssertionError as error:
                failures.append(f"{case.operation.label}: {error}"[:2000])

        run()

    print(f"schemathesis: {cases} cases, statuses {dict(sorted(statuses.items()))}")
    assert cases >= MIN_CASES
    assert sum(n for code, n in statuses.items() if code < 300) >= MIN_CASES // 10
    assert failures == [], f"{len(failures)} of {cases} cases failed:\n" + "\n\n".join(
        failures[:10]
    )
