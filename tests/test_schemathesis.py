"""Property-based checks of every operation against the app's own OpenAPI schema, as each role
(SUPER_ADMIN, ADMIN, MANAGER, CASHIER): no server errors, and every response conforms to the
schema (status code, content type, body). Path parameters generated as valid are replaced by
real ids of seeded objects of tenant A (the same `RESOURCES` table as the generated access
suites), so handlers are reached instead of stopping at 404; invalid ones are sent as generated.
Each call is rolled back to a savepoint, so every call finds the seeded objects alive.
New endpoints are covered automatically. Examples are bounded (SCHEMATHESIS_MAX_EXAMPLES) to keep
CI fast; each role runs in its own transaction, so one role's writes never reach another's run."""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from django.core import signals
from django.core.cache import caches
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection, transaction
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from conftest import bearer
from tests.operations import RESOURCES, ROLES, TEMPLATE_VARIABLE, make_refs

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12"))


@pytest.fixture
def seeded(worlds, db):
    """Tenant A's objects for every path parameter, in this test's transaction."""
    return make_refs(worlds["a"])


@pytest.fixture
def api_schema(worlds, db):
    # Like Django's test client: keep the test's connection (and its transaction) open across
    # requests instead of closing it when a request finishes.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        # Django's WSGI handler, as mipos/wsgi.py builds it; not that module itself, whose
        # import switches this whole process to a gunicorn worker's queued event sends
        # (apps.core.events.use_process_loop), and every later test would stop seeing its
        # events sent at commit.
        yield schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


def caller(role: str, worlds):
    from apps.users.models import User

    if role == "SUPER_ADMIN":
        return User.objects.get(email="root@platform.test")
    return User.objects.get(pk=worlds["a"].user(role).pk)


# A token is reused for this long, then a fresh one issued (access tokens live 15 minutes).
TOKEN_REUSE_SECONDS = 120


@pytest.fixture
def tokens():
    """The role's bearer token, issued once and reused by its calls (re-issued every
    TOKEN_REUSE_SECONDS): every call is rolled back to a savepoint, so a generated logout-all or
    password change (a bumped token version, a blacklisted token) never outlives its call, and the
    token stays as valid as a fresh one. The middleware still checks the token against the
    database (user, token version) on every request; issuing one per call cost a user read and an
    outstanding-token insert each time (about a third of the run) and left thousands of
    outstanding-token rows behind in the role's transaction."""
    return {}


def role_token(role: str, worlds, tokens: dict) -> str:
    now = time.monotonic()
    held = tokens.get(role)
    if held is None or now - held[1] > TOKEN_REUSE_SECONDS:
        held = tokens[role] = (bearer(caller(role, worlds)), now)
    return held[0]


def real_path_parameters(case, refs) -> dict[str, str]:
    """The case's path parameters with every id replaced by a real object of tenant A (enum
    parameters keep their generated value, which picks e.g. the status view's product)."""
    values = dict(case.path_parameters)
    for match in TEMPLATE_VARIABLE.finditer(case.path):
        name = match.group(1)
        resource = RESOURCES.get(case.path[: match.end()])
        if resource is not None:
            values[name] = str(refs.ids[resource.format(**values)])
    return values


# Schema violations a handler still accepts, in code this branch does not own; each entry names
# the operation and the input location, and is reported for a fix. Server errors and response
# conformance are checked there as everywhere; only "invalid input accepted" is let through.
KNOWN_LENIENT: dict[tuple[str, str], ParameterLocation] = {}


def check(case, role: str, refs, worlds, tokens: dict) -> None:
    meta = case.meta
    if case.path_parameters and not (meta and meta.is_negative_at(ParameterLocation.PATH)):
        case.path_parameters = real_path_parameters(case, refs)
    # positive_data_acceptance is left out: schema-valid requests are legitimately refused by
    # business rules (a wrong current password, a duplicate slug) and by the role table (403),
    # which the schema cannot express.
    excluded = [positive_data_acceptance]
    if meta and meta.is_negative_at(ParameterLocation.HEADER):
        # The negated header (a missing Authorization) is replaced by the real token below, so
        # the request sent is not the invalid one schemathesis believes it generated.
        excluded.append(negative_data_rejection)
    lenient = KNOWN_LENIENT.get((case.method.upper(), case.path))
    if lenient is not None and meta and meta.is_negative_at(lenient):
        excluded.append(negative_data_rejection)
    token = role_token(role, worlds, tokens)
    # Each call runs in a savepoint rolled back afterwards: a generated DELETE of the seeded
    # product must not turn every later operation on it into a 404.
    savepoint = transaction.savepoint()
    try:
        case.call_and_validate(headers={"Authorization": token}, excluded_checks=excluded)
    finally:
        transaction.savepoint_rollback(savepoint)
        for name in ("default", "platform"):  # nothing cached from a rolled-back write survives
            caches[name].clear()
        connection.set_schema_to_public()


def conformance_test(role: str):
    @pytest.mark.schemathesis
    @schema.parametrize()
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def test(case, seeded, worlds, tokens):
        check(case, role, seeded, worlds, tokens)

    test.__doc__ = f"Every operation as {role}: no 5xx, responses as documented."
    return test


# One test per role (schemathesis' lazy schema cannot be combined with pytest.mark.parametrize).
test_as_super_admin = conformance_test("SUPER_ADMIN")
test_as_admin = conformance_test("ADMIN")
test_as_manager = conformance_test("MANAGER")
test_as_cashier = conformance_test("CASHIER")
assert len(ROLES) == 4


def test_fuzzing_sends_invalid_data_too():
    """The runs above generate schema-violating requests as well as valid ones (schemathesis'
    negative mode; `negative_data_rejection` checks each is refused with a 4xx): pinned here so
    that a configuration change cannot quietly reduce the fuzzing to valid data only."""
    from schemathesis.generation import GenerationMode

    loaded = schemathesis.openapi.from_dict(
        {"openapi": "3.0.0", "info": {"title": "modes", "version": "1"}, "paths": {}}
    )
    assert set(loaded.config.generation.modes) == {
        GenerationMode.POSITIVE,
        GenerationMode.NEGATIVE,
    }
