"""schemathesis against the service's OpenAPI schema: no generated request may cause a 5xx.

Both valid (positive) and invalid (negative) requests are generated for every operation, with an admin
key so they reach the handlers; a few seeded members let generated ids hit real accounts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from datalever.ledger.grants import grant_credits
from datalever.ledger.members import create_member
from datalever.ledger.posting import Idempotency, request_hash
from datalever.service.app import create_app
from datalever.service.settings import Settings
from datalever.web.keys import create_key

EXAMPLES = 10


def test_no_server_errors(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}"))
    ledger = app.state.ledger
    with ledger.engine.begin() as conn:
        headers = {"Authorization": f"Bearer {create_key(conn, 'admin')[1]}"}
    for index in range(3):
        member = create_member(ledger, Idempotency("seed", f"m{index}", request_hash(index))).body["id"]
        grant_credits(ledger, Idempotency("seed", f"g{index}", request_hash(index)), member, 50, "seed")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    calls: list[str] = []
    try:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
                def check(case: Any) -> None:
                    case.call_and_validate(headers=headers, checks=[not_a_server_error])
                    calls.append(case.method)

                try:
                    check()
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE, f"no valid request for {operation.label}"
                    # nothing about this operation can be made invalid (e.g. GET /healthz)
        assert len(calls) >= len(operations) * EXAMPLES
    finally:
        app.state.batcher.close()
        ledger.engine.dispose()
