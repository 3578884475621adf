"""Issue 26, point 11: the Authorization scheme is case-insensitive (RFC 7235): `bearer` and
`BEARER` authenticate like `Bearer`, with the same tenant checks."""

from __future__ import annotations

import pytest

from apps.users.tokens import token_pair_issue

pytestmark = pytest.mark.django_db

ME = "/api/auth/me"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_any_case_of_the_scheme_authenticates(client, world_a, scheme):
    access = token_pair_issue(user=world_a.cashier).access
    response = client.get(ME, HTTP_AUTHORIZATION=f"{scheme} {access}")
    assert response.status_code == 200, response.content
    assert response.json()["data"]["id"] == str(world_a.cashier.pk)


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_tenant_isolation_holds_with_any_case(client, world_a, world_b, scheme):
    """A lowercase scheme routes by the token too: another tenant's product stays a 404."""
    access = token_pair_issue(user=world_a.admin).access
    response = client.get(
        f"/api/v1/products/{world_b.product.pk}", HTTP_AUTHORIZATION=f"{scheme} {access}"
    )
    assert response.status_code == 404, response.content
    own = client.get(
        f"/api/v1/products/{world_a.product.pk}", HTTP_AUTHORIZATION=f"{scheme} {access}"
    )
    assert own.status_code == 200, own.content


def test_another_scheme_is_still_refused(client, world_a):
    access = token_pair_issue(user=world_a.admin).access
    response = client.get(ME, HTTP_AUTHORIZATION=f"Token {access}")
    assert response.status_code == 401
