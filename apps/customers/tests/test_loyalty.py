"""Loyalty: the program from the company settings, manual adjustments, the services the sales
module calls, expiry of old points, and the invariant (points = sum of the history, never
negative) under random sequences."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.errors import ApplicationError, BusinessRuleViolation, ValidationFailed
from apps.customers import services
from apps.customers.models import Customer, LoyaltyEntry
from apps.customers.tests.conftest import customers_state, mismatches
from tests.factories.tenants import company as program

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers"


def points_of(world, customer) -> int:
    with tenant_context(world.tenant):
        return Customer.objects.get(pk=customer.pk).loyalty_points


def test_the_program_comes_from_the_company_settings(api, world_a):
    program(
        world_a,
        loyalty_enabled=True,
        loyalty_points_per_unit="2.00",
        loyalty_point_value="0.0250",
        loyalty_min_redeem_points=50,
        loyalty_points_expiry_months=12,
    )

    response = api(world_a.cashier).get(f"{URL}/loyalty/program")

    assert response.status_code == 200
    assert response.json()["data"] == {
        "enabled": True,
        "pointsPerUnit": "2.00",
        "pointValue": "0.0250",
        "minRedeemPoints": 50,
        "expiryMonths": 12,
    }


def test_the_program_follows_a_settings_change_through_the_api(api, world_a):
    client = api(world_a.admin)
    assert client.get(f"{URL}/loyalty/program").json()["data"]["enabled"] is False

    changed = client.patch(
        "/api/v1/tenants/me/settings",
        {"loyaltyEnabled": True, "loyaltyPointsExpiryMonths": 6},
        format="json",
    )

    assert changed.status_code == 200
    data = client.get(f"{URL}/loyalty/program").json()["data"]
    assert (data["enabled"], data["expiryMonths"]) == (True, 6)
    refused = client.patch(
        "/api/v1/tenants/me/settings", {"loyaltyPointsExpiryMonths": 0}, format="json"
    )
    assert refused.status_code == 400


def test_adjust_adds_and_takes_points(api, world_a, make_customer):
    ana = make_customer(loyalty_points=30)
    client = api(world_a.cashier)

    added = client.post(
        f"{URL}/{ana.pk}/loyalty/adjust", {"points": 70, "reason": "Welcome bonus"}, format="json"
    )
    taken = client.post(
        f"{URL}/{ana.pk}/loyalty/adjust", {"points": -100, "reason": "Correction"}, format="json"
    )

    assert added.status_code == 200, added.content
    data = added.json()["data"]
    assert set(data) == {
        "id", "type", "points", "pointsAfter", "expiresAt", "reference", "note", "createdBy",
        "createdAt",
    }  # fmt: skip
    assert (data["type"], data["points"], data["pointsAfter"], data["note"]) == (
        "ADJUST",
        70,
        100,
        "Welcome bonus",
    )
    assert data["expiresAt"] is None  # the company does not expire points
    assert (taken.json()["data"]["points"], taken.json()["data"]["pointsAfter"]) == (-100, 0)
    history = client.get(f"{URL}/{ana.pk}/loyalty").json()["data"]
    assert [(h["points"], h["pointsAfter"]) for h in history] == [(-100, 0), (70, 100)]


def test_points_never_go_below_zero(api, world_a, make_customer):
    ana = make_customer(loyalty_points=40)
    before = customers_state(world_a)

    response = api(world_a.manager).post(
        f"{URL}/{ana.pk}/loyalty/adjust", {"points": -41, "reason": "Oops"}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INSUFFICIENT_POINTS"
    assert response.json()["error"]["details"] == [
        {"field": "points", "message": "At most 40 can be taken."}
    ]
    assert customers_state(world_a) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"points": 0, "reason": "x"}, "points"),
        ({"points": "50", "reason": "x"}, "points"),
        ({"points": 5.0, "reason": "x"}, "points"),
        ({"points": True, "reason": "x"}, "points"),
        ({"points": 5, "reason": ""}, "reason"),
        ({"points": 5}, "reason"),
    ],
)
def test_bad_adjustments_are_400_and_change_nothing(api, world_a, make_customer, body, field):
    ana = make_customer(loyalty_points=10)
    before = customers_state(world_a)

    response = api(world_a.manager).post(f"{URL}/{ana.pk}/loyalty/adjust", body, format="json")

    assert response.status_code == 400
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]
    assert customers_state(world_a) == before


def test_earn_redeem_and_reverse(world_a, make_customer):
    program(world_a, loyalty_enabled=True, loyalty_min_redeem_points=100)
    ana = make_customer()
    sale = services.Reference("sale", uuid.uuid4())
    with tenant_context(world_a.tenant):
        earned = services.loyalty_earn(actor=None, customer_id=ana.pk, points=250, reference=sale)
        redeemed = services.loyalty_redeem(actor=None, customer_id=ana.pk, points=100)
        taken_back = services.loyalty_reverse(
            actor=None, customer_id=ana.pk, points=-150, reference=sale
        )
        given_back = services.loyalty_reverse(actor=None, customer_id=ana.pk, points=100)
        assert [
            (e.type, e.points, e.points_after) for e in (earned, redeemed, taken_back, given_back)
        ] == [
            ("EARN", 250, 250),
            ("REDEEM", -100, 150),
            ("REVERSE", -150, 0),
            ("REVERSE", 100, 100),
        ]
        assert (earned.reference_type, earned.reference_id) == ("sale", sale.id)
        assert mismatches() == []


def test_redeem_rules(world_a, make_customer):
    ana = make_customer(loyalty_points=500)
    before = customers_state(world_a)
    with tenant_context(world_a.tenant):
        with pytest.raises(BusinessRuleViolation) as off:
            services.loyalty_redeem(actor=None, customer_id=ana.pk, points=200)
        program(world_a, loyalty_enabled=True, loyalty_min_redeem_points=100)
        with pytest.raises(BusinessRuleViolation) as small:
            services.loyalty_redeem(actor=None, customer_id=ana.pk, points=99)
        with pytest.raises(BusinessRuleViolation) as too_many:
            services.loyalty_redeem(actor=None, customer_id=ana.pk, points=501)
        with pytest.raises(BusinessRuleViolation) as reverse_too_many:
            services.loyalty_reverse(actor=None, customer_id=ana.pk, points=-501)
        with pytest.raises(ValidationFailed):
            services.loyalty_earn(actor=None, customer_id=ana.pk, points=0)
    assert [e.value.code for e in (off, small, too_many, reverse_too_many)] == [
        "LOYALTY_DISABLED",
        "BELOW_MIN_REDEEM",
        "INSUFFICIENT_POINTS",
        "INSUFFICIENT_POINTS",
    ]
    state = customers_state(world_a)
    assert {k: v for k, v in state.items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }
    assert state["audit"] == before["audit"]


# --- expiry ---------------------------------------------------------------------------------------
def at(year, month, day) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def test_months_later_keeps_the_day_or_the_months_last():
    assert services.months_later(at(2026, 1, 31), 1) == at(2026, 2, 28)
    assert services.months_later(at(2026, 11, 15), 3) == at(2027, 2, 15)
    assert services.months_later(at(2027, 12, 1), 12) == at(2028, 12, 1)


def test_points_expire_soonest_first_once(world_a, make_customer):
    program(world_a, loyalty_points_expiry_months=12)
    ana = make_customer()
    with tenant_context(world_a.tenant):
        post = services.loyalty._points_post
        post(actor=None, customer_id=ana.pk, type="EARN", points=100, now=at(2025, 1, 10))
        post(actor=None, customer_id=ana.pk, type="EARN", points=50, now=at(2025, 6, 10))
        post(actor=None, customer_id=ana.pk, type="REDEEM", points=-30, now=at(2025, 7, 1))
        assert LoyaltyEntry.objects.filter(points__gt=0).order_by("created_at").values_list(
            "expires_at", flat=True
        )[0] == at(2026, 1, 10)

        assert services.loyalty_expire_due(now=at(2026, 1, 9)) == 0  # nothing due yet
        assert services.loyalty_expire_due(now=at(2026, 1, 10)) == 1
        assert Customer.objects.get(pk=ana.pk).loyalty_points == 50  # 100 - 30 spent from them
        assert services.loyalty_expire_due(now=at(2026, 1, 10)) == 0  # idempotent
        assert services.loyalty_expire_due(now=at(2026, 3, 1)) == 0
        assert services.loyalty_expire_due(now=at(2026, 6, 10)) == 1
        assert Customer.objects.get(pk=ana.pk).loyalty_points == 0
        expired = list(
            LoyaltyEntry.objects.filter(type="EXPIRE")
            .order_by("created_at")
            .values_list("points", "points_after", "created_at")
        )
        assert expired == [(-70, 50, at(2026, 1, 10)), (-50, 0, at(2026, 6, 10))]
        assert mismatches() == []


def test_points_that_never_expire_are_kept(world_a, make_customer):
    ana = make_customer()
    with tenant_context(world_a.tenant):
        services.loyalty._points_post(
            actor=None, customer_id=ana.pk, type="EARN", points=40, now=at(2020, 1, 1)
        )
        assert services.loyalty_expire_due(now=at(2030, 1, 1)) == 0
    assert points_of(world_a, ana) == 40


def test_the_command_expires_every_company(world_a, world_b, make_customer):
    program(world_a, loyalty_points_expiry_months=1)
    ana = make_customer(name="Ana")
    with tenant_context(world_a.tenant):
        services.loyalty._points_post(
            actor=None, customer_id=ana.pk, type="EARN", points=10, now=at(2020, 1, 1)
        )

    call_command("loyalty_expire")
    call_command("loyalty_expire")

    assert points_of(world_a, ana) == 0
    with tenant_context(world_a.tenant):
        assert LoyaltyEntry.objects.filter(customer_id=ana.pk, type="EXPIRE").count() == 1


# --- the invariant under random sequences ---------------------------------------------------------
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    operations=st.lists(
        st.tuples(
            st.sampled_from(["earn", "redeem", "reverse", "adjust"]),
            st.integers(min_value=-300, max_value=300).filter(bool),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_points_always_equal_the_history_and_never_go_negative(world_a, operations):
    program(world_a, loyalty_enabled=True, loyalty_min_redeem_points=1)
    with tenant_context(world_a.tenant):
        customer = Customer.objects.create(code=f"H-{uuid.uuid4().hex[:10]}", name="Points")
        held = 0
        for name, points in operations:
            kwargs = {"actor": None, "customer_id": customer.pk}
            try:
                if name == "earn":
                    services.loyalty_earn(points=abs(points), **kwargs)
                    change = abs(points)
                elif name == "redeem":
                    services.loyalty_redeem(points=abs(points), **kwargs)
                    change = -abs(points)
                elif name == "reverse":
                    services.loyalty_reverse(points=points, **kwargs)
                    change = points
                else:
                    services.loyalty_adjust(points=points, reason="test", **kwargs)
                    change = points
            except ApplicationError as refused:
                assert refused.code == "INSUFFICIENT_POINTS"
                taken = abs(points)
                assert taken > held and name != "earn" and (name == "redeem" or points < 0)
            else:
                held += change
            assert held >= 0
            assert Customer.objects.get(pk=customer.pk).loyalty_points == held
            assert (
                sum(
                    LoyaltyEntry.objects.filter(customer_id=customer.pk).values_list(
                        "points", flat=True
                    )
                )
                == held
            )
