"""Reads for customers, groups, their ledgers and the loyalty program."""

from __future__ import annotations

import re
from uuid import UUID

from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Lower

from apps.core.errors import NotFound
from apps.core.phones import TYPED, phone_national_digits
from apps.customers.models import Customer, CustomerGroup, CustomerLedgerEntry, LoyaltyEntry
from apps.tenants.selectors import tenant_settings_cached

PHONE_LIKE = re.compile(r"^\+?[0-9()./-]+$")


def customer_list() -> QuerySet[Customer]:
    return Customer.objects.alive().select_related("group")


SHORT = 3  # the trigram index needs words of 3 characters or more


def customer_search(queryset: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """Every word must appear in the customer's code, name, email or phone digits (one
    trigram-indexed column, `search_text`). A word that looks like a phone number is matched
    on its digits, so "+351 912-000" finds "351912000". A search of only one- or two-letter
    words is too short for trigrams: "an" finds names starting with "an", as a typeahead does,
    and "jo s" those starting with "jo" with a later word starting with "s" — a range of the
    name index (`customer_name_idx`), so the page and its count read only that range.

    A search that is a whole valid phone number, however typed ("912 345 678", "+351912345678",
    "00351 912 345 678", "07400 123456" in GB), is read in the company's country like a stored
    phone is, and finds the phones holding its national number (in E.164, or kept as typed by
    migration 0003)."""
    national = _phone_typed(text)
    if national is not None:
        return queryset.filter(search_text__contains=national)
    words = []
    for word in text.lower().split():
        if PHONE_LIKE.match(word) and any(ch.isdigit() for ch in word):
            word = re.sub(r"\D", "", word)
        words.append(word)
    if words and all(len(word) < SHORT for word in words):
        first, *others = words
        # [first, first with its last character incremented) holds every string starting with
        # it in the index's collation; LIKE then keeps exactly those
        upper = first[:-1] + chr(ord(first[-1]) + 1)
        queryset = queryset.annotate(name_key=Lower("name")).filter(
            name_key__gte=first, name_key__lt=upper, name_key__startswith=first
        )
        for word in others:  # "jo s": a later word of the name starts with "s"
            queryset = queryset.filter(name_key__contains=f" {word}")
        return queryset
    for word in words:
        queryset = queryset.filter(search_text__contains=word)
    return queryset


def _phone_typed(text: str) -> str | None:
    """The national number of `text` when it is a whole phone number (the company's settings are
    read only for a text that could be one)."""
    if not TYPED.match(text.strip()):
        return None
    country = tenant_settings_cached(tenant=connection.tenant).country
    return phone_national_digits(text, country=country)


def customer_search_order(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    return queryset.order_by(Lower("name"), "id")


def customer_get(*, customer_id: UUID) -> Customer:
    customer = customer_list().filter(pk=customer_id).first()
    if customer is None:
        raise NotFound("Customer not found.")
    return customer


def customer_group_list() -> QuerySet[CustomerGroup]:
    """Groups with the number of live customers in each (one query)."""
    members = (
        Customer.objects.alive()
        .filter(group_id=OuterRef("pk"))
        .order_by()
        .values("group_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return CustomerGroup.objects.alive().annotate(
        customer_count=Coalesce(Subquery(members), Value(0))
    )


def customer_group_get(*, group_id: UUID) -> CustomerGroup:
    group = customer_group_list().filter(pk=group_id).first()
    if group is None:
        raise NotFound("Customer group not found.")
    return group


def customer_ledger(*, customer_id: UUID) -> QuerySet[CustomerLedgerEntry]:
    customer_get(customer_id=customer_id)  # 404 for a missing or deleted customer
    return CustomerLedgerEntry.objects.filter(customer_id=customer_id).order_by(
        "-created_at", "-id"
    )


def loyalty_history(*, customer_id: UUID) -> QuerySet[LoyaltyEntry]:
    customer_get(customer_id=customer_id)
    return LoyaltyEntry.objects.filter(customer_id=customer_id).order_by("-created_at", "-id")


def loyalty_program(*, tenant=None) -> dict:
    """The company's loyalty program, from its settings."""
    settings = tenant_settings_cached(tenant=tenant if tenant is not None else connection.tenant)
    return {
        "enabled": settings.loyalty_enabled,
        "points_per_unit": settings.loyalty_points_per_unit,
        "point_value": settings.loyalty_point_value,
        "min_redeem_points": settings.loyalty_min_redeem_points,
        "expiry_months": settings.loyalty_points_expiry_months,
    }
