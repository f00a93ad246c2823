"""Property-based fuzzing of every operation against the OpenAPI spec (schemathesis).

Each operation gets generated valid (positive) and invalid (negative) requests
with a real account's token; every answer must be non-5xx and conform to the
spec (documented status code, content type, body schema), every request that
breaks the spec must be refused, and protected operations must refuse requests
without auth. Strategies are drawn directly (schemathesis' pytest plugin does
not run on pytest 9), so each database backend's app is fuzzed the same way.

For GET operations in negative mode, ``negative_data_rejection`` is left out
too: their input is only query and path text, and a "type" mutation of a query
value (an array or a boolean where a string is expected) arrives over HTTP as
just another valid string. Their other checks (no 5xx, documented answers)
stay on, and patterns, lengths and enums of their parameters are tested.

One check is left out everywhere, ``positive_data_acceptance`` (every schema-valid request
gets a 2xx/404/409): the API keeps rules JSON Schema cannot state, and refuses
their breach with a documented 4xx: amounts are never floats (JSON Schema
counts 1.0 as an integer), a policy expiry lies in the future, price_min <=
price_max, a union lists each product once, a search text has a word, a cursor
is one the API issued. Each of these has its own test.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.schemas import OpenApiSchema

import kraken_market.ledger.transactions  # noqa: F401 - see below
from kraken_market.ledger.deployment import Deployment
from tests.conftest import Account
from tests.factories import product_body

# Imported before any case runs: py-evm (through eth-tester, which the ledger client
# names for in-process errors) raises the recursion limit when first imported, and
# Hypothesis fails a test during which the limit changed. Which case first reaches
# the ledger depends on how xdist shares the tests out, so without this the module
# passed or failed by the order of the run.

EXAMPLES = int(os.environ.get("KRAKEN_FUZZ_EXAMPLES", "25"))
NO_INPUT = {  # nothing to make invalid
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/auth/challenge"),
    ("GET", "/api/v1/identity/issuers"),
    ("GET", "/api/v1/ledger/token"),
    ("GET", "/api/v1/ledger/nodes"),
    ("GET", "/api/v1/ledger/deployment"),
}
OPERATIONS = [
    ("POST", "/api/v1/products"),
    ("GET", "/api/v1/products"),
    ("GET", "/api/v1/products/{product_id}"),
    ("PATCH", "/api/v1/products/{product_id}"),
    ("POST", "/api/v1/products/{product_id}/retire"),
    ("GET", "/api/v1/products/{product_id}/history"),
    ("GET", "/api/v1/products/{product_id}/lineage"),
    ("POST", "/api/v1/products/{product_id}/grants"),
    ("GET", "/api/v1/products/{product_id}/eligibility"),
    ("GET", "/api/v1/ledger/deployment"),
    ("GET", "/api/v1/products/{product_id}/chain"),
    ("POST", "/api/v1/products/{product_id}/publisher"),
    ("GET", "/api/v1/products/{product_id}/claims"),
    ("GET", "/api/v1/products/{product_id}/insight"),
    ("GET", "/api/v1/products/{product_id}/price-suggestion"),
    ("GET", "/api/v1/pricing/suggestion"),
    ("POST", "/api/v1/computations"),
    ("POST", "/api/v1/computations/quote"),
    ("GET", "/api/v1/computations/{request_id}"),
    ("POST", "/api/v1/computations/{request_id}/retry"),
    ("POST", "/api/v1/claims/evidence"),
    ("POST", "/api/v1/claims/{purchase_id}/ruling"),
    ("POST", "/api/v1/uploads"),
    ("POST", "/api/v1/uploads/{upload_id}/complete"),
    ("PUT", "/api/v1/objects/{name}"),
    ("GET", "/api/v1/objects/{name}"),
    ("HEAD", "/api/v1/objects/{name}"),
    ("GET", "/api/v1/streams/{product_id}"),
    ("GET", "/api/v1/streams/{product_id}/messages"),
    ("GET", "/api/v1/streams/{product_id}/events"),
    ("POST", "/api/v1/streams/{product_id}/messages"),
    ("POST", "/api/v1/unions"),
    ("GET", "/api/v1/unions"),
    ("GET", "/api/v1/unions/{union_id}"),
    ("POST", "/api/v1/unions/{union_id}/consent"),
    ("POST", "/api/v1/unions/{union_id}/reject"),
    ("POST", "/api/v1/auth/challenge"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/auth/sessions"),
    ("DELETE", "/api/v1/auth/sessions/{session_id}"),
    ("POST", "/api/v1/auth/requests"),
    ("GET", "/api/v1/auth/requests/{request_id}"),
    ("POST", "/api/v1/auth/requests/{request_id}/response"),
    ("POST", "/api/v1/auth/requests/result"),
    ("POST", "/api/v1/wallet-requests"),
    ("GET", "/api/v1/wallet-requests/{request_id}"),
    ("POST", "/api/v1/wallet-requests/{request_id}/response"),
    ("POST", "/api/v1/wallet-requests/result"),
    ("GET", "/api/v1/identity/issuers"),
    ("POST", "/api/v1/demo-issuer/credentials"),
    ("GET", "/api/v1/identity/schemas/{name}.json"),
    ("GET", "/api/v1/status-lists/{list_id}"),
    ("PUT", "/api/v1/status-lists/{list_id}"),
    ("POST", "/api/v1/identity/bindings"),
    ("GET", "/api/v1/identity/bindings/{did}"),
    ("POST", "/api/v1/companies"),
    ("GET", "/api/v1/companies"),
    ("GET", "/api/v1/companies/{did}"),
    ("PATCH", "/api/v1/companies/{did}"),
    ("DELETE", "/api/v1/companies/{did}"),
    ("POST", "/api/v1/companies/{did}/approve"),
    ("POST", "/api/v1/companies/{did}/suspend"),
    ("GET", "/api/v1/companies/{did}/identified"),
    ("GET", "/api/v1/companies/{did}/audit"),
    ("PUT", "/api/v1/companies/{did}/account"),
    ("POST", "/api/v1/companies/{did}/representative"),
    ("GET", "/api/v1/ledger/token"),
    ("GET", "/api/v1/ledger/balances/{account}"),
    ("GET", "/api/v1/ledger/nodes"),
    ("GET", "/api/v1/claims"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
]


def test_every_operation_is_fuzzed(app: FastAPI) -> None:
    spec = app.openapi()
    listed = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    assert listed == set(OPERATIONS)


CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if not (mode is GenerationMode.NEGATIVE and (method, path) in NO_INPUT)
]


def deployed(path: Path) -> None:
    """A deployment file as ``chain deploy`` writes it (addresses need no chain here)."""
    address = "0x" + "11" * 20
    Deployment(
        chain_id=1337,
        block=1,
        admin=address,
        token=address,
        faucet=None,
        authority=address,
        registry=address,
        market=address,
        deployed_at=datetime.now(UTC),
        token_deployed=True,
    ).save(path)


_SPEC: list[OpenApiSchema] = []


def loaded(app: FastAPI) -> OpenApiSchema:
    """The spec as schemathesis reads it, loaded once per worker process: every test's
    app serves the same spec (test_every_operation_is_fuzzed checks what it lists), and
    generating and reading it again for each case took half of this module's time."""
    if not _SPEC:
        _SPEC.append(schemathesis.openapi.from_asgi("/openapi.json", app))
    schema = _SPEC[0]
    schema.app = app
    return schema


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_operation_conforms_to_its_spec(
    app: FastAPI, alice: Account, method: str, path: str, mode: GenerationMode
) -> None:
    product = alice.api.create_product(product_body("analytics"))
    if path == "/api/v1/ledger/deployment":  # 503 until the platform has deployed
        deployed(app.state.settings.deployment_file)
    operation = loaded(app)[path][method]
    operation.app = app  # calls go to this test's app (and its database)
    strategy = operation.as_strategy(generation_mode=mode)
    excluded = [schemathesis.checks.positive_data_acceptance]
    if method == "GET" and mode is GenerationMode.NEGATIVE:
        excluded.append(schemathesis.checks.negative_data_rejection)
    known = st.sampled_from([product["id"], "0x" + "00" * 32])

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy, known_id=known, use_known=st.booleans())
    def check(
        case: schemathesis.Case,  # type: ignore[type-arg]
        known_id: str,
        use_known: bool,
    ) -> None:
        if use_known and case.path_parameters and mode is GenerationMode.POSITIVE:
            case.path_parameters = {k: known_id for k in case.path_parameters}
        case.call_and_validate(headers=alice.headers, excluded_checks=excluded)

    check()
