"""The balance ledger: the services the sales module calls, the managers' adjustment, the ledger
list, and the invariant (balance = sum of the ledger; the credit limit never exceeded by a
charge) under random sequences of operations."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.audit.models import AuditLog
from apps.core.errors import ApplicationError, BusinessRuleViolation, NotFound, ValidationFailed
from apps.customers import services
from apps.customers.models import Customer, CustomerLedgerEntry
from apps.customers.tests.conftest import customers_state, mismatches

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/customers"


def balance_of(world, customer) -> Decimal:
    with tenant_context(world.tenant):
        return Customer.objects.get(pk=customer.pk).balance


def test_each_service_writes_its_signed_row(world_a, make_customer):
    ana = make_customer(credit_limit=D("100.00"))
    sale = services.Reference("sale", uuid.uuid4())
    steps = [
        (services.customer_charge, D("60.00"), "CREDIT_SALE", D("60.00"), D("60.00")),
        (services.customer_pay, D("20.00"), "PAYMENT", D("-20.00"), D("40.00")),
        (services.customer_refund, D("5.50"), "REFUND", D("-5.50"), D("34.50")),
        (services.customer_void, D("4.50"), "VOID", D("-4.50"), D("30.00")),
        (services.customer_credit_issue, D("50.00"), "STORE_CREDIT_ISSUED", D("-50.00"), D("-20")),
        (services.customer_credit_use, D("15.00"), "STORE_CREDIT_USED", D("15.00"), D("-5.00")),
    ]
    with tenant_context(world_a.tenant):
        for service, amount, kind, signed, after in steps:
            entry = service(
                actor=world_a.cashier, customer_id=ana.pk, amount=amount, reference=sale, note="n"
            )
            assert (entry.type, entry.amount, entry.balance_after) == (kind, signed, after)
            assert (entry.reference_type, entry.reference_id) == ("sale", sale.id)
            assert entry.created_by == world_a.cashier.pk
        assert Customer.objects.get(pk=ana.pk).balance == D("-5.00")
        assert list(
            CustomerLedgerEntry.objects.filter(customer_id=ana.pk)
            .order_by("created_at", "id")
            .values_list("type", "amount", "balance_after")
        ) == [(kind, signed, after) for _, _, kind, signed, after in steps]
        assert mismatches() == []
        actions = list(
            AuditLog.objects.filter(entity_id=str(ana.pk))
            .order_by("created_at")
            .values_list("action", flat=True)
        )
    assert actions == [
        "customer.balance.credit_sale",
        "customer.balance.payment",
        "customer.balance.refund",
        "customer.balance.void",
        "customer.balance.store_credit_issued",
        "customer.balance.store_credit_used",
    ]


@pytest.mark.parametrize(
    ("balance", "service", "amount", "code", "message"),
    [
        (D("90.00"), services.customer_charge, D("10.01"), "CREDIT_LIMIT_EXCEEDED", "10.00"),
        (D("120.00"), services.customer_charge, D("0.01"), "CREDIT_LIMIT_EXCEEDED", "0.00"),
        (D("30.00"), services.customer_pay, D("30.01"), "AMOUNT_EXCEEDS_DUE", "30.00"),
        (D("-5.00"), services.customer_pay, D("1.00"), "AMOUNT_EXCEEDS_DUE", "0.00"),
        (D("-5.00"), services.customer_credit_use, D("5.01"), "INSUFFICIENT_CREDIT", "5.00"),
        (D("3.00"), services.customer_credit_use, D("1.00"), "INSUFFICIENT_CREDIT", "0.00"),
    ],
)
def test_refusals_change_nothing(world_a, make_customer, balance, service, amount, code, message):
    ana = make_customer(credit_limit=D("100.00"), balance=balance)
    before = customers_state(world_a)

    with tenant_context(world_a.tenant), pytest.raises(BusinessRuleViolation) as refused:
        service(actor=world_a.manager, customer_id=ana.pk, amount=amount)

    assert refused.value.code == code
    assert message in refused.value.details[0]["message"]
    assert customers_state(world_a) == before


def test_a_charge_up_to_the_limit_exactly_is_accepted(world_a, make_customer):
    ana = make_customer(credit_limit=D("100.00"), balance=D("-10.00"))  # holds 10 of credit

    with tenant_context(world_a.tenant):
        entry = services.customer_charge(actor=None, customer_id=ana.pk, amount=D("110.00"))

    assert entry.balance_after == D("100.00")


@pytest.mark.parametrize("amount", [D("0"), D("-1.00"), D("0.001"), D("NaN"), D("1e12")])
def test_amounts_must_be_positive_cents(world_a, make_customer, amount):
    ana = make_customer(credit_limit=D("100.00"))
    before = customers_state(world_a)

    with tenant_context(world_a.tenant), pytest.raises(ValidationFailed) as refused:
        services.customer_charge(actor=None, customer_id=ana.pk, amount=amount)

    assert refused.value.details[0]["field"] == "amount"
    assert customers_state(world_a) == before


def test_a_deleted_customer_cannot_be_charged(world_a, make_customer):
    from django.utils import timezone

    gone = make_customer(credit_limit=D("100.00"), deleted_at=timezone.now())

    with tenant_context(world_a.tenant), pytest.raises(NotFound):
        services.customer_charge(actor=None, customer_id=gone.pk, amount=D("1.00"))


def test_ledger_rows_are_immutable_in_the_database(world_a, make_customer):
    ana = make_customer()
    with tenant_context(world_a.tenant):
        services.customer_balance_adjust(
            actor=world_a.admin, customer_id=ana.pk, amount=D("5.00"), reason="Opening"
        )
        services.loyalty_adjust(actor=world_a.admin, customer_id=ana.pk, points=9, reason="x")
        for statement in (
            "UPDATE customers_customerledgerentry SET amount = 0",
            "DELETE FROM customers_customerledgerentry",
            "UPDATE customers_loyaltyentry SET points = 0",
            "DELETE FROM customers_loyaltyentry",
        ):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
                c.execute(statement)
        assert CustomerLedgerEntry.objects.get(customer_id=ana.pk).amount == D("5.00")


# --- the API: balance adjustment and the ledger list ----------------------------------------------
def test_a_manager_adjusts_the_balance(api, world_a, make_customer):
    ana = make_customer()

    response = api(world_a.manager).post(
        f"{URL}/{ana.pk}/balance/adjust",
        {"amount": "-12.34", "reason": "Opening store credit"},
        format="json",
    )

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert set(data) == {
        "id", "type", "amount", "balanceAfter", "reference", "note", "createdBy", "createdAt",
    }  # fmt: skip
    assert (data["type"], data["amount"], data["balanceAfter"], data["reference"]) == (
        "ADJUSTMENT",
        "-12.34",
        "-12.34",
        None,
    )
    assert (data["note"], data["createdBy"]) == ("Opening store credit", str(world_a.manager.pk))
    assert balance_of(world_a, ana) == D("-12.34")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "0", "reason": "x"}, "amount"),
        ({"amount": "1.005", "reason": "x"}, "amount"),
        ({"amount": 5, "reason": "x"}, "amount"),
        ({"amount": "5.00", "reason": "  "}, "reason"),
        ({"amount": "5.00"}, "reason"),
    ],
)
def test_bad_adjustments_are_400_and_change_nothing(api, world_a, make_customer, body, field):
    ana = make_customer()
    before = customers_state(world_a)

    response = api(world_a.admin).post(f"{URL}/{ana.pk}/balance/adjust", body, format="json")

    assert response.status_code == 400
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]
    assert customers_state(world_a) == before


def test_a_cashier_may_not_adjust_the_balance(api, world_a, make_customer):
    ana = make_customer()
    before = customers_state(world_a)

    response = api(world_a.cashier).post(
        f"{URL}/{ana.pk}/balance/adjust", {"amount": "5.00", "reason": "x"}, format="json"
    )

    assert response.status_code == 403
    assert customers_state(world_a) == before


def test_the_ledger_lists_newest_first_with_references(api, world_a, make_customer):
    ana = make_customer(credit_limit=D("50.00"))
    sale = uuid.uuid4()
    with tenant_context(world_a.tenant):
        services.customer_charge(
            actor=world_a.cashier,
            customer_id=ana.pk,
            amount=D("20.00"),
            reference=services.Reference("sale", sale),
        )
        services.customer_pay(actor=world_a.cashier, customer_id=ana.pk, amount=D("7.25"))

    response = api(world_a.cashier).get(f"{URL}/{ana.pk}/ledger")

    assert response.status_code == 200
    rows = response.json()["data"]
    assert [(r["type"], r["amount"], r["balanceAfter"]) for r in rows] == [
        ("PAYMENT", "-7.25", "12.75"),
        ("CREDIT_SALE", "20.00", "20.00"),
    ]
    assert rows[1]["reference"] == {"type": "sale", "id": str(sale)}
    assert response.json()["meta"]["total"] == 2
    only = api(world_a.cashier).get(f"{URL}/{ana.pk}/ledger?type=PAYMENT").json()["data"]
    assert [r["type"] for r in only] == ["PAYMENT"]
    assert api(world_a.cashier).get(f"{URL}/{ana.pk}/ledger?type=GIFT").status_code == 400


# --- the invariant under random sequences ---------------------------------------------------------
AMOUNTS = st.decimals(min_value=D("0.01"), max_value=D("80.00"), places=2)
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["charge", "pay", "issue", "use", "refund", "void", "adjust"]),
        AMOUNTS,
        st.booleans(),  # adjust: negative?
    ),
    min_size=1,
    max_size=25,
)
SERVICES = {
    "charge": services.customer_charge,
    "pay": services.customer_pay,
    "issue": services.customer_credit_issue,
    "use": services.customer_credit_use,
    "refund": services.customer_refund,
    "void": services.customer_void,
}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS, limit=st.decimals(min_value=0, max_value=200, places=2))
def test_balance_always_equals_the_ledger_and_charges_stay_within_the_limit(
    world_a, operations, limit
):
    with tenant_context(world_a.tenant):
        customer = Customer.objects.create(
            code=f"H-{uuid.uuid4().hex[:10]}", name="Hypothesis", credit_limit=limit
        )
        expected = D("0.00")
        for name, amount, negative in operations:
            try:
                if name == "adjust":
                    signed = -amount if negative else amount
                    services.customer_balance_adjust(
                        actor=None, customer_id=customer.pk, amount=signed, reason="test"
                    )
                    expected += signed
                else:
                    entry = SERVICES[name](actor=None, customer_id=customer.pk, amount=amount)
                    expected += entry.amount
                    if name == "charge":
                        assert entry.balance_after <= limit
            except ApplicationError as refused:
                # refused exactly when its rule says so
                rule = {
                    "charge": expected + amount > limit,
                    "pay": amount > expected,
                    "use": amount > -expected,
                }
                assert rule.get(name), (name, amount, expected, refused.code)
            else:
                assert name != "charge" or expected <= limit
                assert name != "pay" or expected >= 0
                assert name != "use" or expected <= 0
            current = Customer.objects.get(pk=customer.pk).balance
            assert current == expected
            ledger_sum = sum(
                CustomerLedgerEntry.objects.filter(customer_id=customer.pk).values_list(
                    "amount", flat=True
                ),
                D("0.00"),
            )
            assert ledger_sum == current
