"""Documents that move through states: sales, transfers, purchase orders, stock counts, shifts.

Each document model has one `Lifecycle`: its table of transitions (action -> the statuses it may
start from and the status it ends in), the 404 message, and how a refusal reads. A service moves a
document in two calls, inside its transaction:

1. `lifecycle.lock(pk, action)` reads the row fresh under `SELECT … FOR UPDATE` (404 when unknown
   or not visible through `queryset`), and refuses with 422 INVALID_STATE when `action` may not
   start from its status — before anything is written;
2. `document_transition(...)` sets the new status (the table's, or the one the service computed
   when the table leaves it open, e.g. RETURNED or PARTIALLY_RETURNED), stamps who and when, saves
   exactly those fields and `updated_at`, writes the audit row {status before} -> {status after,
   facts} in the same transaction, and publishes the document's event (sent on commit).

`lines_take` is the other half of most transitions: quantities asked for against a document's
lines (a return against a sale's items, a receipt against an order's or a transfer's lines),
checked the same way everywhere — a known line, listed once, a positive quantity in the product's
units, never more than what remains (every line over it listed in one refusal)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.db import models
from django.utils import timezone

from apps.core.db import audit_writer
from apps.core.errors import (
    ApplicationError,
    BusinessRuleViolation,
    ErrorCode,
    NotFound,
    ValidationFailed,
)

D = TypeVar("D", bound=models.Model)
L = TypeVar("L")


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]  # the statuses the action may start from
    target: str | None = None  # the status it ends in; None: the service decides


@dataclass(frozen=True)
class Lifecycle(Generic[D]):
    model: type[D]
    entity_type: str  # the audit trail's name for it
    not_found: str  # the 404's message
    transitions: Mapping[str, Transition]
    # the 422 INVALID_STATE for `action` on a document whose status does not allow it
    refusal: Callable[[D, str], ApplicationError]
    audit_name: str = ""  # its actions' prefix on the trail ("count.finalize"); entity_type if ""

    def lock(self, pk: Any, action: str, *, queryset: models.QuerySet[D] | None = None) -> D:
        """The document, locked until the transaction ends; 404 when unknown (or outside
        `queryset`: what the actor may see), the lifecycle's refusal when `action` may not start
        from its status."""
        rows = self.model._default_manager.all() if queryset is None else queryset
        document = rows.select_for_update(of=("self",)).filter(pk=pk).first()
        if document is None:
            raise NotFound(self.not_found)
        if document.status not in self.transitions[action].sources:
            raise self.refusal(document, action)
        return document

    def allows(self, document: D, action: str) -> bool:
        return document.status in self.transitions[action].sources


def status_refusal(name: str, verbs: Mapping[str, str]) -> Callable[[Any, str], ApplicationError]:
    """The usual refusal: 422 INVALID_STATE "A CANCELLED transfer cannot be shipped.", with the
    status in its details (`verbs`: action -> its past participle)."""

    def refusal(document: Any, action: str) -> ApplicationError:
        return BusinessRuleViolation(
            f"A {document.status} {name} cannot be {verbs[action]}.",
            code=ErrorCode.INVALID_STATE,
            details=[
                {"field": "status", "message": f"Is {document.status}.", "status": document.status}
            ],
        )

    return refusal


def document_transition(
    lifecycle: Lifecycle[D],
    document: D,
    *,
    action: str,
    actor: Any,
    status: str | None = None,
    stamps: Iterable[str] = (),
    changes: Mapping[str, Any] | None = None,
    facts: Mapping[str, Any] | None = None,
    audit: tuple[dict[str, Any] | None, dict[str, Any]] | None = None,
    audit_action: str | None = None,
    publish: Callable[[D], None] | None = None,
) -> D:
    """Moves `document` (locked by `lifecycle.lock`) by `action`, in the caller's transaction:
    status = `status` or the transition's target; each of `stamps` set to now (`…_at`) or the
    actor's id (`…_by`); `changes` applied; those fields and `updated_at` saved in one UPDATE;
    one audit row (`audit_action`, default "<entity>.<action>") with the status before and after
    plus `facts` — or, for a document whose trail has always recorded other facts (a shift's
    close: the count; an order's receipt: the receipt), `audit` as (before, after); then
    `publish(document)` (events go out on commit)."""
    target = status or lifecycle.transitions[action].target
    if target is None:
        raise ValueError(f"{lifecycle.entity_type}.{action}: the service must give the status")
    before = document.status
    now = timezone.now()
    values: dict[str, Any] = {"status": target}
    for name in stamps:
        values[name] = now if name.endswith("_at") else getattr(actor, "pk", None)
    values.update(changes or {})
    for name, value in values.items():
        setattr(document, name, value)
    document.save(update_fields=[*values, "updated_at"])
    audit_before, audit_after = audit or ({"status": before}, {"status": target, **(facts or {})})
    audit_writer(
        action=audit_action or f"{lifecycle.audit_name or lifecycle.entity_type}.{action}",
        entity_type=lifecycle.entity_type,
        entity_id=document.pk,
        actor=actor,
        before=audit_before,
        after=audit_after,
    )
    if publish is not None:
        publish(document)
    return document


@dataclass(frozen=True)
class Wanted:
    """A quantity asked for against one line of a document (by the line's id)."""

    line_id: Any
    quantity: Decimal


@dataclass(frozen=True)
class Taking(Generic[L]):
    """How quantities are taken against one kind of line, with the messages its API gives."""

    remaining: Callable[[L], Decimal]  # what is left to take of the line
    not_a_line: str  # the 400 for an id that is not one of the document's lines
    too_little: Callable[[L], str]  # the 400 for a quantity below the least allowed
    too_much: Callable[[L, Decimal], str]  # a refusal detail, given what remains
    refusal: Callable[[list[dict[str, str]]], ApplicationError]  # every line over what remains
    zero_allowed: bool = False  # whether 0 may be asked (a transfer line that did not arrive)
    # the per-line unit check (whole units), given the field, the line and the quantity
    unit_check: Callable[[str, L, Decimal], None] | None = None
    field: str = "items"
    id_name: str = "itemId"


def lines_take(
    lines: Mapping[Hashable, L], wanted: Sequence[Wanted], taking: Taking[L]
) -> list[tuple[L, Decimal]]:
    """Each wanted quantity against its line, in the order asked: 400 for an unknown line, a line
    listed twice, a quantity below the least allowed or in units the product does not sell in
    (the first such, as the checkout does); then one refusal listing every line asked beyond what
    remains (nothing is taken). Returns (line, quantity) pairs."""
    taken: list[tuple[L, Decimal]] = []
    seen: set[Hashable] = set()
    over: list[dict[str, str]] = []
    for n, want in enumerate(wanted):
        at = f"{taking.field}.{n}"
        line = lines.get(want.line_id)
        if line is None:
            raise ValidationFailed.for_field(f"{at}.{taking.id_name}", taking.not_a_line)
        if want.line_id in seen:
            raise ValidationFailed.for_field(f"{at}.{taking.id_name}", "Listed twice.")
        seen.add(want.line_id)
        if want.quantity < 0 or (want.quantity == 0 and not taking.zero_allowed):
            raise ValidationFailed.for_field(f"{at}.quantity", taking.too_little(line))
        if taking.unit_check is not None:
            taking.unit_check(f"{at}.quantity", line, want.quantity)
        left = taking.remaining(line)
        if want.quantity > left:
            over.append({"field": f"{at}.quantity", "message": taking.too_much(line, left)})
        taken.append((line, want.quantity))
    if over:
        raise taking.refusal(over)
    return taken
