"""Documents moving through states (`apps.core.documents`): one lock-and-check, one transition
that saves exactly the status fields with its audit row and event, one way of taking quantities
against a document's lines — and every document service uses them."""

from __future__ import annotations

import ast
import pathlib
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.core.documents import Taking, Wanted, document_transition, lines_take
from apps.core.errors import BusinessRuleViolation, ErrorCode, NotFound, ValidationFailed
from apps.inventory.models import Transfer, TransferStatus
from apps.inventory.services import COUNT, TRANSFER
from apps.pos.services import SHIFT
from apps.purchasing.services import PURCHASE
from apps.sales.services import SALE

ROOT = pathlib.Path(__file__).resolve().parents[3]


# --- lines_take -----------------------------------------------------------------------------------
@dataclass
class Line:
    quantity: Decimal
    done: Decimal = Decimal("0")


def _taking(**overrides) -> Taking[Line]:
    options = {
        "remaining": lambda line: line.quantity - line.done,
        "not_a_line": "Not a line.",
        "too_little": lambda line: "Must be more than 0.",
        "too_much": lambda line, left: f"At most {left}.",
        "refusal": lambda over: BusinessRuleViolation(
            "Too much.", code=ErrorCode.RETURN_EXCEEDS_SOLD, details=over
        ),
    }
    return Taking(**{**options, **overrides})


LINES = {"a": Line(Decimal("3"), Decimal("1")), "b": Line(Decimal("5"))}


def test_quantities_are_taken_in_the_order_asked():
    taken = lines_take(LINES, [Wanted("b", Decimal("5")), Wanted("a", Decimal("2"))], _taking())
    assert taken == [(LINES["b"], Decimal("5")), (LINES["a"], Decimal("2"))]


@pytest.mark.parametrize(
    ("wanted", "field", "message"),
    [
        ([Wanted("z", Decimal("1"))], "items.0.itemId", "Not a line."),
        ([Wanted("a", Decimal("1")), Wanted("a", Decimal("1"))], "items.1.itemId", "Listed twice."),
        ([Wanted("b", Decimal("0"))], "items.0.quantity", "Must be more than 0."),
        ([Wanted("b", Decimal("-1"))], "items.0.quantity", "Must be more than 0."),
    ],
)
def test_a_malformed_ask_is_a_400_on_its_field(wanted, field, message):
    with pytest.raises(ValidationFailed) as refused:
        lines_take(LINES, wanted, _taking())
    assert refused.value.details == [{"field": field, "message": message}]


def test_every_line_over_what_remains_is_listed_in_one_refusal():
    wanted = [Wanted("a", Decimal("3")), Wanted("b", Decimal("5")), Wanted("x", Decimal("1"))]
    with pytest.raises(ValidationFailed):  # an unknown line is a 400 before any 422
        lines_take(LINES, wanted, _taking())
    wanted = [Wanted("a", Decimal("3")), Wanted("b", Decimal("6"))]
    with pytest.raises(BusinessRuleViolation) as refused:
        lines_take(LINES, wanted, _taking())
    assert refused.value.code == ErrorCode.RETURN_EXCEEDS_SOLD
    assert refused.value.details == [
        {"field": "items.0.quantity", "message": "At most 2."},
        {"field": "items.1.quantity", "message": "At most 5."},
    ]


def test_zero_when_allowed_and_the_unit_check_per_line():
    checked = []
    taking = _taking(
        zero_allowed=True, unit_check=lambda field, line, q: checked.append((field, q))
    )
    assert lines_take(LINES, [Wanted("b", Decimal("0"))], taking) == [(LINES["b"], Decimal("0"))]
    assert checked == [("items.0.quantity", Decimal("0"))]


# --- Lifecycle.lock and document_transition ---------------------------------------------------
@pytest.mark.django_db
def test_a_transition_locks_checks_saves_its_fields_audits_and_publishes(world_a):
    published = []
    with tenant_context(world_a.tenant):
        transfer = Transfer.objects.create(
            number=1, from_store=world_a.warehouse, to_store=world_a.store
        )
        with pytest.raises(NotFound) as unknown, transaction.atomic():
            TRANSFER.lock(world_a.store.pk, "ship")
        assert unknown.value.message == "Transfer not found."
        with transaction.atomic():
            locked = TRANSFER.lock(transfer.pk, "ship")
            with CaptureQueriesContext(connection) as queries:
                document_transition(
                    TRANSFER,
                    locked,
                    action="ship",
                    actor=world_a.manager,
                    stamps=("shipped_at", "shipped_by"),
                    publish=published.append,
                )
        updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
        assert len(updates) == 1
        assert updates[0].split(" SET ")[1].split(" WHERE ")[0].count("=") == 4
        for column in ('"status"', '"shipped_at"', '"shipped_by"', '"updated_at"'):
            assert column in updates[0]
        stored = Transfer.objects.get(pk=transfer.pk)
        assert (stored.status, stored.shipped_by) == (TransferStatus.IN_TRANSIT, world_a.manager.pk)
        assert stored.shipped_at is not None and stored.shipped_at <= stored.updated_at
        entry = AuditLog.objects.get(action="transfer.ship", entity_id=str(transfer.pk))
        assert (entry.before, entry.after, entry.actor_id) == (
            {"status": "PENDING"},
            {"status": "IN_TRANSIT"},
            world_a.manager.pk,
        )
        assert [p.pk for p in published] == [transfer.pk]
        # shipped already: the refusal says so and nothing moves
        with pytest.raises(BusinessRuleViolation) as refused, transaction.atomic():
            TRANSFER.lock(transfer.pk, "ship")
        assert (refused.value.code, refused.value.message) == (
            ErrorCode.INVALID_STATE,
            "A IN_TRANSIT transfer cannot be shipped.",
        )
        assert Transfer.objects.get(pk=transfer.pk).updated_at == stored.updated_at
        assert AuditLog.objects.filter(entity_id=str(transfer.pk)).count() == 1


def test_every_document_has_one_table_of_transitions():
    tables = {
        life.entity_type: {a: sorted(t.sources) for a, t in life.transitions.items()}
        for life in (SALE, TRANSFER, COUNT, PURCHASE, SHIFT)
    }
    assert tables == {
        "sale": {"void": ["COMPLETED"], "return": ["COMPLETED", "PARTIALLY_RETURNED"]},
        "transfer": {
            "ship": ["PENDING"],
            "receive": ["IN_TRANSIT"],
            "cancel": ["IN_TRANSIT", "PENDING"],
        },
        "stock_count": {"submit": ["OPEN"], "finalize": ["OPEN"], "cancel": ["OPEN"]},
        "purchase_order": {
            "receive": ["ORDERED", "PARTIALLY_RECEIVED"],
            "cancel": ["ORDERED", "PARTIALLY_RECEIVED"],
            "pay": ["ORDERED", "PARTIALLY_RECEIVED", "RECEIVED"],
        },
        "shift": {"cash": ["OPEN"], "close": ["OPEN"]},
    }


DOCUMENT_SERVICES = ["sales", "inventory", "purchasing", "pos"]


@pytest.mark.parametrize("app", DOCUMENT_SERVICES)
def test_no_document_service_sets_a_status_by_hand(app):
    """A document's status is written by document_transition only: no `x.status = …`, no save
    naming "status" in the services (module or package) of the apps that own documents."""
    home = ROOT / "apps" / app
    modules = sorted((home / "services").glob("*.py")) or [home / "services.py"]
    by_hand = []
    for node in (n for m in modules for n in ast.walk(ast.parse(m.read_text()))):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                by_hand += [n.lineno for n in names if getattr(n, "attr", None) == "status"]
        if isinstance(node, ast.keyword) and node.arg == "update_fields":
            fields = [getattr(e, "value", None) for e in getattr(node.value, "elts", [])]
            if "status" in fields:
                by_hand.append(node.value.lineno)
    assert by_hand == []
