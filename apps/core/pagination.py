from __future__ import annotations

import math

from django.conf import settings
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from apps.core.errors import ValidationFailed

MAX_LIMIT = 100
# Row sources with `page_with_total(offset, limit) -> (rows, total)` (e.g. the product list's)
# read a page within the first ONE_QUERY_MAX_OFFSET rows together with its total, in one query:
# one round trip fewer. Further pages count first, so a page past the end never makes
# PostgreSQL walk a huge OFFSET.
ONE_QUERY_MAX_OFFSET = 10_000


def _positive_int(request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed.for_field(name, "Must be a whole number.") from None
    if value < 1:
        raise ValidationFailed.for_field(name, "Must be at least 1.")
    if maximum is not None and value > maximum:
        raise ValidationFailed.for_field(name, f"Must be at most {maximum}.")
    return value


def page_params(request) -> tuple[int, int]:
    """`?page=&limit=` read and checked (400 when malformed), with their defaults."""
    page = _positive_int(request, "page", 1)
    limit = _positive_int(request, "limit", settings.REST_FRAMEWORK.get("PAGE_SIZE", 20), MAX_LIMIT)
    return page, limit


def enveloped_response(data, meta: dict) -> Response:
    """A list response in the paginated shape, for lists that are not paginated querysets."""
    response = Response({"success": True, "data": data, "meta": meta})
    response.enveloped = True
    return response


class PagePagination(BasePagination):
    """`?page=&limit=` (limit ≤ 100) → `{"success", "data": [...], "meta": {page, limit, total,
    totalPages}}`. A page past the end is an empty list, not an error."""

    def paginate_queryset(self, queryset, request, view=None):
        self.page, self.limit = page_params(request)
        offset = (self.page - 1) * self.limit
        page_with_total = getattr(queryset, "page_with_total", None)
        if page_with_total is not None and offset <= ONE_QUERY_MAX_OFFSET:
            rows, total = page_with_total(offset, self.limit)
            if rows:
                self.total = total
                return rows
            # an empty page: nothing matches, or past the end — counted below
        cap = getattr(view, "count_cap", None)
        self.capped = False
        if cap is not None:
            # Ledgers: counting a million matching rows costs more than the page itself, and
            # nobody pages through them by number. Count at most `cap` (+1 to know there is more).
            self.total = queryset[: cap + 1].count()
            if self.total > cap:
                self.total, self.capped = cap, True
                return list(queryset[offset : offset + self.limit])
        else:
            self.total = queryset.count() if hasattr(queryset, "count") else len(queryset)
        if offset >= self.total:  # past the end (also keeps huge pages out of SQL's OFFSET)
            return []
        return list(queryset[offset : offset + self.limit])

    def get_meta(self) -> dict:
        return {
            "page": self.page,
            "limit": self.limit,
            "total": self.total,
            "total_pages": math.ceil(self.total / self.limit) if self.total else 0,
            # only on capped lists: `total` is a lower bound (at least that many rows match)
            **({"total_capped": True} if getattr(self, "capped", False) else {}),
        }

    def get_paginated_response(self, data):
        return enveloped_response(data, self.get_meta())

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["success", "data", "meta"],
            "properties": {
                "success": {"type": "boolean"},
                "data": schema,
                "meta": {"$ref": "#/components/schemas/PageMeta"},
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            },
        ]
