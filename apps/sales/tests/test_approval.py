"""Discount limits per role and a manager's approval beyond them (apps.sales.approval): a refused
checkout or quote writes nothing; an approved one is audited with its approver; approvers' PINs
and passwords cannot be guessed at the till's speed."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from uuid import uuid4

import pytest
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.core.roles import Role
from apps.customers.models import Customer, CustomerGroup
from apps.inventory.services import AdjustItem, stock_adjust
from apps.pos.models import ParkedCart
from apps.sales.approval import Approval
from apps.sales.services import CartItem, Checkout
from apps.sales.tests.conftest import sales_state
from apps.users.models import User
from apps.users.services import pin_set
from conftest import PASSWORD
from tests.factories.sales import CHECKOUT, cart, cash, line, percent
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal
QUOTE = "/api/v1/sales/quote"
APPROVED = "sale.discount_approved"
MANAGER_PIN, ADMIN_PIN = "2580", "7391"
REFUSED = (
    "The approval was refused: the credentials are wrong, or not those of an active user of this"
    " company."
)


def body(world, *items, payments=(cash("100.00"),), **extra) -> dict:
    return cart(world, *items, payments=payments, **extra)


def amount(value: str) -> dict:
    return {"type": "AMOUNT", "value": value}


def by_pin(user, pin: str) -> dict:
    return {"userId": str(user.pk), "pin": pin}


def by_password(user, password: str = PASSWORD) -> dict:
    return {"email": user.email, "password": password}


def with_pin(user, pin: str) -> None:
    pin_set(user=user, pin=pin, current_password=PASSWORD)


def refusal(response) -> dict:
    """The single detail of a 403 APPROVAL_REQUIRED (its message repeats the error's)."""
    assert response.status_code == 403, response.json()
    error = response.json()["error"]
    assert error["code"] == "APPROVAL_REQUIRED"
    (detail,) = error["details"]
    assert detail.pop("message") == error["message"]
    return detail


def approvals(world) -> list[AuditLog]:
    return list(AuditLog.objects.filter(tenant=world.tenant, action=APPROVED))


# --- within the limit -----------------------------------------------------------------------------
def test_a_cashier_gives_up_to_their_limit_alone(api, world_a, shelf):
    response = api(world_a.cashier).post(
        CHECKOUT, body(world_a, line(shelf.water, "5", discount=percent("10"))), format="json"
    )

    assert response.status_code == 201, response.json()
    sale = response.json()["data"]
    assert (sale["subtotal"], sale["discountTotal"], sale["total"]) == ("4.00", "0.40", "3.60")
    assert approvals(world_a) == []


def test_a_manager_gives_up_to_50_percent_alone_and_not_more(api, world_a, shelf):
    manager = api(world_a.manager)
    half = manager.post(
        CHECKOUT, body(world_a, line(shelf.water, "5", discount=percent("50"))), format="json"
    )
    assert half.status_code == 201, half.json()
    assert half.json()["data"]["total"] == "2.00"
    before = sales_state(world_a)

    more = manager.post(
        CHECKOUT, body(world_a, line(shelf.water, "5", discount=percent("50.01"))), format="json"
    )

    assert refusal(more) == {"field": "items.0", "limit": "50", "requested": "50.01"}
    assert sales_state(world_a) == before


def test_the_customer_group_discount_is_the_companys_not_the_cashiers(api, world_a, shelf):
    with tenant_context(world_a.tenant):
        staff = CustomerGroup.objects.create(name="Staff", discount_percent=D("20"))
        ana = Customer.objects.create(code="C-1", name="Ana", group=staff)

    response = api(world_a.cashier).post(
        CHECKOUT,
        body(
            world_a,
            line(shelf.water, "5", discount=percent("10")),
            customerId=str(ana.pk),
            discount=amount("0.28"),  # 10 % of what is left after the line's and the group's
        ),
        format="json",
    )

    # 4.00 - 0.40 (line) = 3.60; - 0.72 (group 20 %) = 2.88; - 0.28 (cart) = 2.60: the seller's
    # own reductions are 10 % and 9.72 % of what each applies to; compounded 1 - 0.9 x 0.9028 =
    # 18.75 % — beyond 10 %: the stacking counts, the group's 20 % does not
    assert refusal(response) == {"field": "items.0", "limit": "10", "requested": "18.75"}
    alone = api(world_a.cashier).post(
        CHECKOUT,
        body(world_a, line(shelf.water, "5", discount=percent("10")), customerId=str(ana.pk)),
        format="json",
    )
    assert alone.status_code == 201, alone.json()
    assert (alone.json()["data"]["discountTotal"], alone.json()["data"]["total"]) == (
        "1.12",
        "2.88",
    )


def test_an_approval_that_is_not_needed_is_not_checked(api, world_a, shelf):
    response = api(world_a.cashier).post(
        CHECKOUT,
        body(
            world_a,
            line(shelf.water, "5", discount=percent("5")),
            approval=by_pin(world_a.manager, "0000"),
        ),
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert approvals(world_a) == []
    # and it was not counted against the manager: five wrong PINs later still only 403s
    with_pin(world_a.manager, MANAGER_PIN)
    for _ in range(5):
        wrong = api(world_a.cashier).post(
            CHECKOUT,
            body(
                world_a,
                line(shelf.water, "1", discount=percent("15")),
                approval=by_pin(world_a.manager, "1357"),
            ),
            format="json",
        )
        assert refusal(wrong)["field"] == "approval"


# --- beyond the limit, no approval: 403 and nothing written ---------------------------------------
@pytest.mark.parametrize(
    ("items", "extra", "field", "requested"),
    [
        ([("water", "5", percent("10.01"))], {}, "items.0", "10.01"),
        ([("water", "5", amount("0.41"))], {}, "items.0", "10.25"),  # 0.41 of 4.00
        ([("beans", "1", amount("2.41"))], {}, "items.0", "10.05"),  # 10.0417 %, rounded up
        ([("water", "5", None)], {"discount": percent("11")}, "discount", "11"),
        ([("water", "5", None)], {"discount": amount("0.41")}, "discount", "10.25"),
        ([("water", "5", percent("10"))], {"discount": percent("10")}, "items.0", "19"),
        (
            [("water", "1", None), ("beans", "1", percent("12"))],
            {"discount": percent("1")},
            "items.1",
            "12.88",
        ),
    ],
    ids=[
        "line-10.01",
        "line-amount",
        "amount-rounded-up",
        "cart-percent",
        "cart-amount",
        "line-and-cart-stack",
        "largest-line",
    ],
)
def test_a_cashier_beyond_the_limit_is_refused_and_nothing_is_written(
    api, world_a, shelf, items, extra, field, requested
):
    products = {"water": shelf.water, "beans": shelf.beans}
    cart = [
        line(products[name], quantity, **({"discount": discount} if discount else {}))
        for name, quantity, discount in items
    ]
    before = sales_state(world_a)

    response = api(world_a.cashier).post(CHECKOUT, body(world_a, *cart, **extra), format="json")

    assert refusal(response) == {"field": field, "limit": "10", "requested": requested}
    assert response.json()["error"]["message"] == (
        f"A discount of {requested} % is beyond your limit of 10 %: it needs a manager's approval."
    )
    assert sales_state(world_a) == before  # no sale, stock as it was, no number, no audit row


def test_the_quote_refuses_exactly_as_the_checkout(api, world_a, shelf):
    cart = body(world_a, line(shelf.water, "5", discount=percent("15")))
    before = sales_state(world_a)

    quote = api(world_a.cashier).post(QUOTE, cart, format="json")

    assert refusal(quote) == {"field": "items.0", "limit": "10", "requested": "15"}
    with_pin(world_a.manager, MANAGER_PIN)
    before = sales_state(world_a)
    approved = api(world_a.cashier).post(
        QUOTE, {**cart, "approval": by_pin(world_a.manager, MANAGER_PIN)}, format="json"
    )
    assert approved.status_code == 200, approved.json()
    assert (approved.json()["data"]["number"], approved.json()["data"]["total"]) == (None, "3.40")
    assert sales_state(world_a) == before  # the quote's approval row rolled back with it


def test_a_price_override_below_the_catalogue_counts_as_a_discount(api, world_a, shelf):
    company(world_a, max_discount_percent={"CASHIER": "10", "MANAGER": "10", "ADMIN": "100"})
    before = sales_state(world_a)
    manager = api(world_a.manager)

    response = manager.post(
        CHECKOUT, body(world_a, line(shelf.water, "5", unitPrice="0.71")), format="json"
    )

    assert refusal(response) == {"field": "items.0", "limit": "10", "requested": "11.25"}
    assert sales_state(world_a) == before
    # a price above the catalogue makes no room for a discount: 10 % of 0.90 is within 10 %
    above = manager.post(
        CHECKOUT,
        body(world_a, line(shelf.water, "5", unitPrice="0.90", discount=percent("10"))),
        format="json",
    )
    assert above.status_code == 201, above.json()
    assert above.json()["data"]["total"] == "4.05"
    with_pin(world_a.admin, ADMIN_PIN)
    approved = manager.post(
        CHECKOUT,
        body(
            world_a,
            line(shelf.water, "5", unitPrice="0.71"),
            approval=by_pin(world_a.admin, ADMIN_PIN),
        ),
        format="json",
    )
    assert approved.status_code == 201, approved.json()
    assert approved.json()["data"]["total"] == "3.55"


def test_an_overridden_variant_is_measured_against_the_variants_price(api, world_a):
    company(world_a, max_discount_percent={"CASHIER": "10", "MANAGER": "10", "ADMIN": "100"})
    with tenant_context(world_a.tenant):
        stock_adjust(
            actor=world_a.admin, store_id=world_a.store.pk, reason="FOUND",
            items=[AdjustItem(world_a.product.pk, world_a.variant.pk, D("5"))],
        )  # fmt: skip

    response = api(world_a.manager).post(
        CHECKOUT,
        body(
            world_a, line(world_a.product, "1", variantId=str(world_a.variant.pk), unitPrice="1.30")
        ),
        format="json",
    )

    # 1.50 → 1.30 is 13.33 % below the variant's price (the product's 1.20 would say none)
    assert refusal(response) == {"field": "items.0", "limit": "10", "requested": "13.34"}


def test_with_the_setting_at_zero_any_discount_needs_an_approval(api, world_a, shelf):
    company(world_a, max_discount_percent={"CASHIER": "0", "MANAGER": "50", "ADMIN": "100"})
    cashier = api(world_a.cashier)
    before = sales_state(world_a)

    one = cashier.post(
        CHECKOUT, body(world_a, line(shelf.water, "5", discount=amount("0.01"))), format="json"
    )

    assert refusal(one) == {"field": "items.0", "limit": "0", "requested": "0.25"}
    assert sales_state(world_a) == before
    plain = cashier.post(CHECKOUT, body(world_a, line(shelf.water, "5")), format="json")
    assert plain.status_code == 201, plain.json()


# --- approved -------------------------------------------------------------------------------------
def test_a_managers_password_approves_and_the_approval_is_audited(api, world_a, shelf):
    response = api(world_a.cashier).post(
        CHECKOUT,
        body(
            world_a,
            line(shelf.water, "5", discount=percent("30")),
            approval=by_password(world_a.manager),
        ),
        format="json",
    )

    assert response.status_code == 201, response.json()
    sale = response.json()["data"]
    assert (sale["cashierId"], sale["total"]) == (str(world_a.cashier.pk), "2.80")
    (audit,) = approvals(world_a)
    assert (audit.actor_id, audit.entity_type, audit.entity_id) == (
        world_a.cashier.pk,
        "user",
        str(world_a.manager.pk),
    )
    assert audit.after == {
        "approver_id": str(world_a.manager.pk),
        "approver_role": "MANAGER",
        "method": "password",
        "limit": "10",
        "requested": "30",
        "approver_limit": "50",
        "store_id": str(world_a.store.pk),
        "client_sale_id": None,
    }
    checkout = AuditLog.objects.get(action="sale.checkout", entity_id=sale["id"])
    assert audit.request_id == checkout.request_id != ""  # the same request, the same transaction


def test_a_managers_pin_approves(api, world_a, shelf):
    with_pin(world_a.manager, MANAGER_PIN)

    response = api(world_a.cashier).post(
        CHECKOUT,
        body(
            world_a,
            line(shelf.water, "5", discount=percent("50")),
            approval=by_pin(world_a.manager, MANAGER_PIN),
        ),
        format="json",
    )

    assert response.status_code == 201, response.json()
    (audit,) = approvals(world_a)
    assert (audit.after["approver_id"], audit.after["method"], audit.after["requested"]) == (
        str(world_a.manager.pk),
        "pin",
        "50",
    )


def test_a_retry_of_an_approved_sale_answers_the_stored_sale(api, world_a, shelf):
    with_pin(world_a.manager, MANAGER_PIN)
    cart = body(
        world_a,
        line(shelf.water, "5", discount=percent("20")),
        clientSaleId=str(uuid4()),
        approval=by_pin(world_a.manager, MANAGER_PIN),
    )
    cashier = api(world_a.cashier)

    first = cashier.post(CHECKOUT, cart, format="json")
    again = cashier.post(CHECKOUT, cart, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert len(approvals(world_a)) == 1


def test_the_sales_fingerprint_holds_no_pin(world_a):
    """The checkout's fingerprint is stored on the sale (request_hash): a PIN in it could be found
    back from the hash in seconds. Two PINs give the same fingerprint."""
    cart = Checkout(store_id=uuid4(), items=[CartItem(product_id=uuid4(), quantity=D("1"))])
    one = replace(cart, approval=Approval(user_id=world_a.manager.pk, pin="2580"))
    other = replace(cart, approval=Approval(user_id=world_a.manager.pk, pin="7391"))

    assert one.fingerprint() == other.fingerprint()
    assert repr(one.approval) == "Approval(by pin)"


# --- refused approvals ----------------------------------------------------------------------------
def test_wrong_pins_are_refused_counted_and_the_sixth_is_429(api, world_a, shelf):
    with_pin(world_a.manager, MANAGER_PIN)
    with_pin(world_a.admin, ADMIN_PIN)
    cashier = api(world_a.cashier)
    cart = body(world_a, line(shelf.water, "5", discount=percent("20")))
    before = sales_state(world_a)

    for _ in range(5):
        wrong = cashier.post(
            CHECKOUT, {**cart, "approval": by_pin(world_a.manager, "1357")}, format="json"
        )
        assert refusal(wrong) == {"field": "approval", "limit": "10", "requested": "20"}
        assert wrong.json()["error"]["message"] == REFUSED
    sixth = cashier.post(
        CHECKOUT, {**cart, "approval": by_pin(world_a.manager, MANAGER_PIN)}, format="json"
    )
    by_email = cashier.post(
        CHECKOUT, {**cart, "approval": by_password(world_a.manager)}, format="json"
    )

    for locked in (sixth, by_email):  # the right PIN, and the same approver by email
        assert locked.status_code == 429, locked.json()
        assert locked.json()["error"]["code"] == "RATE_LIMITED"
        assert 1 <= int(locked["Retry-After"]) <= 901
    assert sales_state(world_a) == before
    # per approver: the admin still approves, and the cashier's session is intact
    admin = cashier.post(
        CHECKOUT, {**cart, "approval": by_pin(world_a.admin, ADMIN_PIN)}, format="json"
    )
    assert admin.status_code == 201, admin.json()


def test_a_wrong_password_is_refused_never_401(api, world_a, shelf):
    cashier = api(world_a.cashier)
    before = sales_state(world_a)

    response = cashier.post(
        CHECKOUT,
        body(
            world_a,
            line(shelf.water, "5", discount=percent("20")),
            approval=by_password(world_a.manager, "Not-the-password-1"),
        ),
        format="json",
    )

    assert refusal(response) == {"field": "approval", "limit": "10", "requested": "20"}
    assert sales_state(world_a) == before
    assert cashier.get("/api/v1/sales").status_code == 200


def test_a_cashier_cannot_approve(api, world_a, shelf):
    colleague = User.objects.create_user(
        "colleague@acme.test", PASSWORD, name="Colleague", role=Role.CASHIER, tenant=world_a.tenant
    )
    with_pin(colleague, MANAGER_PIN)
    before = sales_state(world_a)

    response = api(world_a.cashier).post(
        CHECKOUT,
        body(
            world_a,
            line(shelf.water, "5", discount=percent("15")),
            approval=by_pin(colleague, MANAGER_PIN),
        ),
        format="json",
    )

    assert refusal(response) == {"field": "approval", "limit": "10", "requested": "15"}
    assert response.json()["error"]["message"] == (
        "The approval was refused: Colleague may approve up to 10 %."
    )
    assert sales_state(world_a) == before


def test_a_manager_cannot_approve_beyond_their_own_limit(api, world_a, shelf):
    with_pin(world_a.manager, MANAGER_PIN)

    response = api(world_a.cashier).post(
        CHECKOUT,
        body(
            world_a,
            line(shelf.water, "5", discount=percent("60")),
            approval=by_pin(world_a.manager, MANAGER_PIN),
        ),
        format="json",
    )

    assert refusal(response) == {"field": "approval", "limit": "10", "requested": "60"}
    assert response.json()["error"]["message"] == (
        "The approval was refused: Manager acme may approve up to 50 %."
    )
    assert approvals(world_a) == []


@pytest.mark.parametrize("way", ["password", "pin"])
def test_another_companys_manager_cannot_approve(api, world_a, world_b, shelf, way):
    with_pin(world_b.manager, MANAGER_PIN)
    credentials = (
        by_password(world_b.manager) if way == "password" else by_pin(world_b.manager, MANAGER_PIN)
    )
    before = sales_state(world_a)

    response = api(world_a.cashier).post(
        CHECKOUT,
        body(world_a, line(shelf.water, "5", discount=percent("20")), approval=credentials),
        format="json",
    )

    assert refusal(response) == {"field": "approval", "limit": "10", "requested": "20"}
    assert response.json()["error"]["message"] == REFUSED
    assert sales_state(world_a) == before


def test_an_inactive_manager_or_one_without_a_pin_cannot_approve(api, world_a, shelf):
    cart = body(world_a, line(shelf.water, "5", discount=percent("20")))
    no_pin = api(world_a.cashier).post(
        CHECKOUT, {**cart, "approval": by_pin(world_a.manager, "")}, format="json"
    )
    assert no_pin.status_code == 400  # an empty PIN is not an approval
    with_pin(world_a.admin, ADMIN_PIN)
    unset = api(world_a.cashier).post(
        CHECKOUT, {**cart, "approval": by_pin(world_a.manager, ADMIN_PIN)}, format="json"
    )
    assert refusal(unset)["field"] == "approval"  # the manager has no PIN
    User.objects.filter(pk=world_a.admin.pk).update(is_active=False)

    inactive = api(world_a.cashier).post(
        CHECKOUT, {**cart, "approval": by_pin(world_a.admin, ADMIN_PIN)}, format="json"
    )

    assert refusal(inactive)["field"] == "approval"
    assert approvals(world_a) == []


@pytest.mark.parametrize(
    ("approval", "fields"),
    [
        ({"email": "manager@acme.test"}, ["approval.password"]),
        ({"userId": str(uuid4())}, ["approval.pin"]),
        ({"email": "manager@acme.test", "pin": "2580"}, ["approval"]),
        ({}, ["approval"]),
    ],
)
def test_an_approval_is_email_and_password_or_user_id_and_pin(
    api, world_a, shelf, approval, fields
):
    response = api(world_a.cashier).post(
        CHECKOUT,
        body(world_a, line(shelf.water, "5", discount=percent("20")), approval=approval),
        format="json",
    )

    assert response.status_code == 400, response.json()
    assert [d["field"] for d in response.json()["error"]["details"]] == fields


def test_a_parked_cart_does_not_keep_the_approval(api, world_a, shelf):
    cart = {
        "storeId": str(world_a.store.pk),
        "items": [line(shelf.water, "5", discount=percent("20"))],
        "approval": by_password(world_a.manager),
    }

    response = api(world_a.cashier).post(
        "/api/v1/pos/carts", {"storeId": str(world_a.store.pk), "cart": cart}, format="json"
    )

    assert response.status_code == 201, response.json()
    held = {key: value for key, value in cart.items() if key != "approval"}
    assert response.json()["data"]["cart"] == held
    with tenant_context(world_a.tenant):
        stored = ParkedCart.objects.get(pk=response.json()["data"]["id"]).cart
    assert "approval" not in stored and PASSWORD not in str(stored)
