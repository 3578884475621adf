from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from apps.stores import selectors, services
from apps.stores.api.serializers import StoreInputSerializer, StoreSerializer


@extend_schema(tags=["stores"])
class StoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Stores (RETAIL) and storages (WAREHOUSE) of the company."""

    required_permission = "store:manage"
    serializer_class = StoreSerializer
    filterset_fields = ["kind"]
    search_fields = ["name", "code", "address"]
    ordering_fields = ["name", "code", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.store_list()

    def get_object(self):
        return selectors.store_get(store_id=self.kwargs["pk"])

    @extend_schema(request=StoreInputSerializer, responses={201: StoreSerializer})
    def create(self, request):
        data = StoreInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = services.store_create(actor=request.user, **data.validated_data)
        return Response(StoreSerializer(store).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=StoreInputSerializer(partial=True), responses={200: StoreSerializer})
    def partial_update(self, request, pk=None):
        store = self.get_object()  # 404 before 400
        data = StoreInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        store = services.store_update(actor=request.user, store_id=store.pk, **data.validated_data)
        return Response(StoreSerializer(store).data)

    @extend_schema(request=None, responses={200: StoreSerializer})
    def destroy(self, request, pk=None):
        store = services.store_delete(actor=request.user, store_id=self.get_object().pk)
        return Response(StoreSerializer(store).data)
