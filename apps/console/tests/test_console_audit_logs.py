"""The console's audit trail and log store: read-only lists with the API's filters (period,
company, request id, level, search) reachable by URL, linked to each other by request id and to
the company page, in a constant number of queries and without counting the whole table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditLog
from apps.core.admin_lists import audit_changelist_url, company_change_url, log_changelist_url
from apps.devtools.models import LogEntry
from apps.users.models import User

pytestmark = pytest.mark.django_db

AUDIT = "/admin/audit/auditlog/"
LOGS = "/admin/devtools/logentry/"
DAY = "2030-01-02"  # the rows of these tests are on their own days, apart from the fixtures'


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2030, 1, day, hour, tzinfo=UTC)


@pytest.fixture
def console(super_admin) -> Client:
    client = Client()
    client.force_login(super_admin)
    return client


def audit(tenant=None, *, when: datetime, request_id: str = "", action: str = "store.create"):
    return AuditLog.objects.create(
        tenant=tenant,
        action=action,
        entity_type=action.split(".")[0],
        entity_id="e-1",
        request_id=request_id,
        created_at=when,
    )


def log(schema=None, *, when: datetime, level: str = "INFO", request_id: str = "", **fields):
    level_no = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}[level]
    fields.setdefault("message", "request finished")
    return LogEntry.objects.create(
        time=when,
        level=level,
        level_no=level_no,
        logger="mipos.request",
        request_id=request_id,
        tenant=schema,
        **fields,
    )


def listed(response) -> list:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def count_queries(queries) -> list[str]:
    return [query["sql"] for query in queries if "COUNT(" in query["sql"]]


# --- links ----------------------------------------------------------------------------------------
def test_url_builders(world_a):
    assert audit_changelist_url() == AUDIT
    assert audit_changelist_url(tenant=world_a.tenant.pk) == f"{AUDIT}?tenant={world_a.tenant.pk}"
    assert audit_changelist_url(request_id="r 1") == f"{AUDIT}?request_id=r+1"
    assert (
        log_changelist_url(tenant="acme", request_id="r-1") == f"{LOGS}?tenant=acme&request_id=r-1"
    )
    assert (
        company_change_url(world_a.tenant.pk)
        == f"/admin/tenants/tenant/{world_a.tenant.pk}/change/"
    )


# --- the audit trail ------------------------------------------------------------------------------
def test_audit_rows_link_to_their_company_and_their_requests_log_lines(console, world_a):
    audit(world_a.tenant, when=at(2), request_id="req-a1")
    audit(None, when=at(2, 13), action="package.create")

    page = console.get(f"{AUDIT}?from={DAY}&to={DAY}")

    assert len(listed(page)) == 2
    html = page.content.decode()
    assert (
        f'<td class="field-company"><a href="/admin/tenants/tenant/{world_a.tenant.pk}/change/">'
        "Company ACME (acme)</a></td>"
    ) in html
    assert (
        '<td class="field-request"><a href="/admin/devtools/logentry/?request_id=req-a1" '
        'title="Its log lines">req-a1</a></td>'
    ) in html
    assert '<td class="field-company">platform</td>' in html
    assert '<td class="field-request">-</td>' in html


def test_audit_filters_narrow_to_the_exact_rows(console, world_a, world_b):
    a1 = audit(world_a.tenant, when=at(2, 9), request_id="req-a1")
    a2 = audit(world_a.tenant, when=at(3, 9), request_id="req-a2", action="tenant.suspend")
    b1 = audit(world_b.tenant, when=at(2, 10), request_id="req-b1")
    p1 = audit(None, when=at(2, 11), request_id="req-p1", action="package.update")
    period = "from=2030-01-01&to=2030-01-31"

    assert listed(console.get(f"{AUDIT}?{period}")) == [a2, p1, b1, a1]
    assert listed(console.get(f"{AUDIT}?from={DAY}&to={DAY}")) == [p1, b1, a1]
    assert listed(console.get(f"{AUDIT}?from=2030-01-02T10:00:00Z&to={DAY}")) == [p1, b1]
    assert listed(console.get(f"{AUDIT}?request_id=req-a2")) == [a2]
    assert listed(console.get(f"{AUDIT}?{period}&tenant={world_a.tenant.pk}")) == [a2, a1]
    assert listed(console.get(f"{AUDIT}?{period}&tenant=bravo")) == [b1]
    assert listed(console.get(f"{AUDIT}?{period}&tenant=nobody")) == []
    assert listed(console.get(f"{AUDIT}?{period}&action_prefix=tenant.")) == [a2]
    assert listed(console.get(f"{AUDIT}?{period}&action=tenant.suspend")) == [a2]
    assert listed(console.get(f"{AUDIT}?{period}&q=package.update")) == [p1]
    assert listed(console.get(f"{AUDIT}?{period}&entity_type=package")) == [p1]


def test_an_unreadable_period_shows_an_error_and_no_rows(console, world_a):
    audit(world_a.tenant, when=at(2))
    page = console.get(f"{AUDIT}?from=yesterday")
    assert listed(page) == []
    assert [str(m) for m in page.context["messages"]] == [
        "From: 'yesterday' is no date or date-time (UTC)."
    ]


def test_audit_company_filter_is_typed_in_not_a_list_of_companies(console, world_a):
    html = console.get(AUDIT).content.decode()
    assert '<input type="text" id="filter-tenant" name="tenant" value="" size="24">' in html
    assert '<input type="text" id="filter-request_id" name="request_id" value="" size="24">' in html
    assert '<input type="text" id="filter-from" name="from" value="" size="24">' in html
    assert "Template" not in html and "_template" not in html
    filtered = console.get(f"{AUDIT}?tenant=acme&q=store").content.decode()
    # the other parameters ride along with the form; the page number does not
    assert '<input type="hidden" name="q" value="store">' in filtered
    assert 'id="filter-tenant" name="tenant" value="acme"' in filtered


def test_audit_list_queries_are_constant_and_never_count_the_whole_trail(console, world_a):
    audit(world_a.tenant, when=at(2), request_id="r-0")
    with CaptureQueriesContext(connection) as few:
        assert console.get(AUDIT).status_code == 200
    actors = [
        User.objects.create(email=f"op{number}@platform.test", role="SUPER_ADMIN")
        for number in range(4)
    ]
    for number in range(12):
        AuditLog.objects.create(
            tenant=world_a.tenant if number % 2 else None,
            actor=actors[number % 4],
            action="user.create",
            entity_type="user",
            request_id=f"r-{number + 1}",
            created_at=at(3 + number),
        )
    with CaptureQueriesContext(connection) as many:
        page = console.get(AUDIT)
    assert len(listed(page)) > 12
    assert len(many.captured_queries) == len(few.captured_queries)
    counts = count_queries(many.captured_queries)
    assert counts and all("LIMIT 10001" in sql for sql in counts), counts


def test_the_audit_trail_is_read_only(console, world_a):
    entry = audit(world_a.tenant, when=at(2))
    page = console.get(AUDIT).content.decode()
    assert f'href="{AUDIT}add/"' not in page and '<select name="action"' not in page
    assert console.get(f"{AUDIT}add/").status_code == 403
    assert console.post(f"{AUDIT}add/", {"action": "x", "entity_type": "y"}).status_code == 403
    change = console.post(f"{AUDIT}{entry.pk}/change/", {"action": "forged"})
    assert change.status_code == 403
    assert console.post(f"{AUDIT}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditLog.objects.get(pk=entry.pk).action == "store.create"


# --- the log store --------------------------------------------------------------------------------
def test_log_lines_link_to_their_company_and_their_requests_audit_rows(console, world_a):
    acme = world_a.tenant.schema_name
    log(acme, when=at(2), request_id="req-a1", path="/api/v1/stores", status=201, method="POST")
    log("gone-company", when=at(2, 13))

    page = console.get(f"{LOGS}?from={DAY}&to={DAY}")

    assert len(listed(page)) == 2
    html = page.content.decode()
    assert (
        f'<td class="field-company"><a href="/admin/tenants/tenant/{world_a.tenant.pk}/change/">'
        f"{acme}</a></td>"
    ) in html
    assert (
        '<td class="field-request"><a href="/admin/audit/auditlog/?request_id=req-a1" '
        'title="Its audit rows">req-a1</a></td>'
    ) in html
    assert '<td class="field-company">gone-company</td>' in html
    assert '<td class="field-path">/api/v1/stores</td>' in html


def test_log_filters_narrow_to_the_exact_lines(console, world_a, world_b):
    acme, bravo = world_a.tenant.schema_name, world_b.tenant.schema_name
    info = log(acme, when=at(2, 9), request_id="req-a1", path="/api/v1/products")
    warning = log(acme, when=at(3, 9), level="WARNING", request_id="req-a2", message="slow")
    error = log(bravo, when=at(2, 10), level="ERROR", request_id="req-b1", message="Boom")
    platform = log(None, when=at(2, 11), level="CRITICAL", message="disk full")
    period = "from=2030-01-01&to=2030-01-31"

    assert listed(console.get(f"{LOGS}?{period}")) == [warning, platform, error, info]
    assert listed(console.get(f"{LOGS}?{period}&level=WARNING")) == [warning, platform, error]
    assert listed(console.get(f"{LOGS}?{period}&level=ERROR")) == [platform, error]
    assert listed(console.get(f"{LOGS}?from={DAY}&to={DAY}")) == [platform, error, info]
    assert listed(console.get(f"{LOGS}?from=2030-01-02T10:00:00Z&to=2030-01-02T11:00:00Z")) == [
        error
    ]
    assert listed(console.get(f"{LOGS}?request_id=req-a2")) == [warning]
    assert listed(console.get(f"{LOGS}?{period}&tenant=acme")) == [warning, info]
    assert listed(console.get(f"{LOGS}?{period}&tenant={world_b.tenant.pk}")) == [error]
    assert listed(console.get(f"{LOGS}?{period}&tenant={world_a.tenant.schema_name}")) == [
        warning,
        info,
    ]
    assert listed(console.get(f"{LOGS}?{period}&tenant=nobody")) == []
    assert listed(console.get(f"{LOGS}?{period}&q=boom")) == [error]  # message, any case
    assert listed(console.get(f"{LOGS}?{period}&q=products")) == [info]  # or path


def test_log_list_queries_are_constant_and_never_count_the_whole_store(console):
    log("t_acme", when=at(2), request_id="r-0")
    with CaptureQueriesContext(connection) as few:
        assert console.get(LOGS).status_code == 200
    for number in range(12):
        log(["t_acme", "t_bravo", None][number % 3], when=at(3 + number), level="ERROR")
    with CaptureQueriesContext(connection) as many:
        page = console.get(LOGS)
    assert len(listed(page)) >= 13
    assert len(many.captured_queries) == len(few.captured_queries)
    counts = count_queries(many.captured_queries)
    assert counts and all("LIMIT 10001" in sql for sql in counts), counts


def test_the_log_store_is_read_only(console):
    line = log("acme", when=at(2))
    page = console.get(LOGS).content.decode()
    assert f'href="{LOGS}add/"' not in page and '<select name="action"' not in page
    assert console.get(f"{LOGS}add/").status_code == 403
    assert console.post(f"{LOGS}{line.pk}/change/", {"message": "forged"}).status_code == 403
    assert console.post(f"{LOGS}{line.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LogEntry.objects.get(pk=line.pk).message == "request finished"


def test_beyond_the_counted_rows_the_page_says_more_than(console, monkeypatch):
    for hour in range(5):
        log("t_acme", when=at(2, hour))
    monkeypatch.setattr("apps.core.admin_lists.COUNT_CAP", 3)
    capped = console.get(f"{LOGS}?from={DAY}&to={DAY}").content.decode()
    assert "More than 3 log entries" in capped
    exact = console.get(f"{LOGS}?from={DAY}&to=2030-01-02T02:00:00Z").content.decode()
    assert "\n2 log entries\n" in exact
    none = console.get(f"{AUDIT}?request_id=nothing-like-it").content.decode()
    assert "\n0 audit entries\n" in none
