"""PUT /users/me/pin: a user's approval PIN (apps.sales.approval) — 4 to 8 digits, not trivially
guessable, set with the current password, stored only as a hash."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password

from apps.audit.models import AuditLog
from apps.users.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

PIN = "/api/v1/users/me/pin"


def _pin_hash(user) -> str:
    return User.objects.values_list("pin_hash", flat=True).get(pk=user.pk)


def test_sets_the_pin_as_a_hash(api, world_a):
    response = api(world_a.manager).put(
        PIN, {"pin": "2580", "currentPassword": PASSWORD}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["data"] == {"message": "PIN set."}
    stored = _pin_hash(world_a.manager)
    assert stored != "" and "2580" not in stored
    assert check_password("2580", stored) and not check_password("2581", stored)
    audit = AuditLog.objects.get(action="user.pin_set")
    assert (audit.actor_id, audit.entity_id, audit.tenant_id) == (
        world_a.manager.pk,
        str(world_a.manager.pk),
        world_a.tenant.pk,
    )
    assert "2580" not in str(audit.after) and "2580" not in str(audit.before)


def test_a_new_pin_replaces_the_old_one(api, world_a):
    client = api(world_a.cashier)
    for pin in ("2580", "13597"):
        response = client.put(PIN, {"pin": pin, "currentPassword": PASSWORD}, format="json")
        assert response.status_code == 200, response.json()

    stored = _pin_hash(world_a.cashier)
    assert check_password("13597", stored) and not check_password("2580", stored)


def test_a_wrong_current_password_is_400_like_a_password_change(api, world_a):
    response = api(world_a.manager).put(
        PIN, {"pin": "2580", "currentPassword": "not-the-password"}, format="json"
    )

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == [
        {"field": "currentPassword", "message": "Current password is incorrect."}
    ]
    assert _pin_hash(world_a.manager) == ""
    assert not AuditLog.objects.filter(action="user.pin_set").exists()


@pytest.mark.parametrize(
    ("pin", "message"),
    [
        ("258", "4 to 8 digits."),
        ("258025802", "4 to 8 digits."),
        ("25a0", "4 to 8 digits."),
        (" 2580", "4 to 8 digits."),
        ("٢٥٨٠", "4 to 8 digits."),  # Arabic-Indic digits are not what a till's keypad sends
        ("0000", "Too easy to guess: not one digit repeated, nor a run such as 1234."),
        ("1234", "Too easy to guess: not one digit repeated, nor a run such as 1234."),
        ("98765", "Too easy to guess: not one digit repeated, nor a run such as 1234."),
    ],
)
def test_a_pin_that_is_not_4_to_8_digits_or_is_guessable_is_400(api, world_a, pin, message):
    response = api(world_a.manager).put(
        PIN, {"pin": pin, "currentPassword": PASSWORD}, format="json"
    )

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == [{"field": "pin", "message": message}]
    assert _pin_hash(world_a.manager) == ""


def test_missing_fields_are_400(api, world_a):
    response = api(world_a.manager).put(PIN, {"pin": "2580"}, format="json")

    assert response.status_code == 400, response.json()
    assert [d["field"] for d in response.json()["error"]["details"]] == ["currentPassword"]
    assert _pin_hash(world_a.manager) == ""


def test_signed_out_is_401_and_a_platform_operator_is_403(api, world_a, super_admin):
    anonymous = api().put(PIN, {"pin": "2580", "currentPassword": PASSWORD}, format="json")
    operator = api(super_admin).put(
        PIN, {"pin": "2580", "currentPassword": PASSWORD}, format="json"
    )

    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "UNAUTHORIZED")
    assert (operator.status_code, operator.json()["error"]["code"]) == (403, "FORBIDDEN")
    assert _pin_hash(super_admin) == ""


def test_a_user_sets_only_their_own_pin(api, world_a, world_b):
    """No id in the path: the PIN set is the caller's, whatever company the other user is in."""
    response = api(world_b.manager).put(
        PIN, {"pin": "2580", "currentPassword": PASSWORD}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert check_password("2580", _pin_hash(world_b.manager))
    assert (_pin_hash(world_a.manager), _pin_hash(world_a.admin)) == ("", "")


def test_the_pin_is_not_read_with_the_request_user(world_a):
    """The request's user is read with its hot columns only (apps.users.selectors): the PIN's
    hash is left out like the password's."""
    from apps.users.selectors import AUTH_DEFERRED

    assert {"password", "pin_hash"} <= AUTH_DEFERRED["users.User"]
