from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import NotFound, ValidationFailed
from apps.core.roles import AUTHENTICATED
from apps.lookups.selectors import LOOKUPS, lookup_rows

MAX_LIMIT = 100


class LookupRowSerializer(serializers.Serializer):
    """Every row has these; each entity adds its own fields (sku, price, code, role…)."""

    id = serializers.UUIDField()
    label = serializers.CharField()


class LookupView(APIView):
    """GET /lookups/<entity>?search=&limit= → [{id, label, …}] for dropdowns."""

    @property
    def required_permission(self) -> str:
        spec = LOOKUPS.get(self.kwargs.get("entity", ""))
        return spec.permission if spec else AUTHENTICATED

    @extend_schema(
        tags=["lookups"],
        parameters=[
            OpenApiParameter("entity", str, OpenApiParameter.PATH, enum=sorted(LOOKUPS)),
            OpenApiParameter("search", str),
            OpenApiParameter("limit", int, description=f"1-{MAX_LIMIT}, default 20"),
        ],
        responses={200: LookupRowSerializer(many=True)},
    )
    def get(self, request, entity: str):
        if entity not in LOOKUPS:
            raise NotFound(f"No lookup named '{entity}'.")
        raw_limit = request.query_params.get("limit", "20")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise ValidationFailed.for_field(
                "limit", f"Must be a whole number from 1 to {MAX_LIMIT}."
            )
        rows = lookup_rows(
            entity=entity,
            user=request.user,
            search=request.query_params.get("search", "").strip()[:100],
            limit=int(raw_limit),
        )
        return Response(rows)
