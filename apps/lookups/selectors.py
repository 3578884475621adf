"""One entry per lookup entity: who may read it and how its rows are found and labelled.
Later modules add theirs to LOOKUPS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from apps.catalog.models import Category, Product
from apps.core.roles import Role
from apps.customers.selectors import customer_list, customer_search
from apps.purchasing.selectors import supplier_list, supplier_search
from apps.stores.models import Store, StoreAssignment
from apps.users.models import User

# Every role that works inside a company. Lookups are tenant data: a SUPER_ADMIN has no tenant
# (their token routes to the public schema, which has no business tables), so they get 403 like
# on every other tenant endpoint, never a 500 and never an empty list that would read as "none".
TENANT_STAFF = "/".join(role for role in Role.values if role != Role.SUPER_ADMIN)


@dataclass(frozen=True)
class Lookup:
    permission: str
    queryset: Callable[[Any], QuerySet]  # (user) -> queryset
    search: tuple[str, ...]
    row: Callable[[Any], dict]  # model instance -> {"id", "label", ...}
    order: tuple[Any, ...] = ("name",)
    # (queryset, text) -> matches, for an entity with its own indexed search (else `search`)
    find: Callable[[QuerySet, str], QuerySet] | None = None


def _products(user):
    return Product.objects.alive()


def _categories(user):
    return Category.objects.alive().select_related("parent__parent")


def _category_label(category) -> str:
    names, node = [], category
    while node is not None and len(names) < 3:
        names.append(node.name)
        node = node.parent
    prefix = "… / " if node is not None else ""
    return prefix + " / ".join(reversed(names))


def _named(model_path: str):
    def queryset(user):
        from django.apps import apps

        return apps.get_model(model_path).objects.alive()

    return queryset


def _stores(user):
    stores = Store.objects.alive()
    if user.role == Role.CASHIER:
        stores = stores.filter(
            pk__in=StoreAssignment.objects.filter(user_id=user.pk).values("store_id")
        )
    return stores


def _customers(user):
    return customer_list()


def _customer_search(queryset: QuerySet, text: str) -> QuerySet:
    return customer_search(queryset, text)


def _suppliers(user):
    return supplier_list()


def _supplier_search(queryset: QuerySet, text: str) -> QuerySet:
    return supplier_search(queryset, text)


def _users(user):
    return User.objects.filter(tenant_id=user.tenant_id, deleted_at__isnull=True, is_active=True)


LOOKUPS: dict[str, Lookup] = {
    "products": Lookup(
        "product:read",
        _products,
        ("name", "sku", "barcode"),
        lambda p: {
            "id": p.pk,
            "label": p.name,
            "sku": p.sku,
            "barcode": p.barcode,
            "price": p.sell_price,
            "status": p.status,
        },
    ),
    "categories": Lookup(
        "category:read",
        _categories,
        ("name",),
        lambda c: {"id": c.pk, "label": _category_label(c), "parent_id": c.parent_id},
    ),
    "brands": Lookup(
        "product:read", _named("catalog.Brand"), ("name",), lambda b: {"id": b.pk, "label": b.name}
    ),
    "units": Lookup(
        "product:read",
        _named("catalog.Unit"),
        ("name", "abbreviation"),
        lambda u: {
            "id": u.pk,
            "label": f"{u.name} ({u.abbreviation})",
            "abbreviation": u.abbreviation,
        },
    ),
    "variant-types": Lookup(
        "product:read",
        _named("catalog.VariantType"),
        ("name",),
        lambda t: {"id": t.pk, "label": t.name},
    ),
    "stores": Lookup(
        TENANT_STAFF,
        _stores,
        ("name", "code"),
        lambda s: {"id": s.pk, "label": f"{s.name} ({s.code})", "code": s.code, "kind": s.kind},
    ),
    "customers": Lookup(
        "customer:read",
        _customers,
        (),
        lambda c: {
            "id": c.pk,
            "label": c.name,
            "code": c.code,
            "phone": c.phone,
            "email": c.email,
            "group_id": c.group_id,
            "discount_percent": c.group.discount_percent if c.group else None,
        },
        order=(Lower("name"), "id"),
        find=_customer_search,
    ),
    "suppliers": Lookup(
        "supplier:read",
        _suppliers,
        (),
        lambda s: {
            "id": s.pk,
            "label": s.name,
            "contact_name": s.contact_name,
            "phone": s.phone,
            "payment_terms_days": s.payment_terms_days,
        },
        order=(Lower("name"), "id"),
        find=_supplier_search,
    ),
    "users": Lookup(
        "ADMIN/MANAGER",
        _users,
        ("name", "email"),
        lambda u: {"id": u.pk, "label": u.name, "email": u.email, "role": u.role},
    ),
}


def lookup_rows(*, entity: str, user, search: str, limit: int) -> list[dict]:
    spec = LOOKUPS[entity]
    queryset = spec.queryset(user)
    if search and spec.find is not None:
        queryset = spec.find(queryset, search)
    elif search:
        queryset = queryset.filter(
            reduce(or_, (Q(**{f"{field}__icontains": search}) for field in spec.search))
        )
    return [spec.row(obj) for obj in queryset.order_by(*spec.order)[:limit]]
