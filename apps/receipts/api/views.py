from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from apps.core.filters import query_flag, query_uuid
from apps.core.negotiation import OwnFormatNegotiation
from apps.core.security import CSP_HEADER, csp_nonce
from apps.core.throttling import FixedWindowThrottle
from apps.receipts import rendering, selectors, services
from apps.receipts.api import serializers as s
from apps.receipts.api.authentication import ReceiptLinkAuthentication
from apps.receipts.links import receipt_link_sign
from apps.stores.selectors import store_get, visible_store_ids
from apps.tenants.selectors import tenant_settings_cached

GENERATE = "receipt:generate"
STORE_ID = OpenApiParameter(
    "storeId", OpenApiTypes.UUID, required=False, description="A store's own template"
)
DOCUMENT_PARAMETERS = [
    OpenApiParameter(
        "document",
        str,
        enum=list(selectors.Document.ALL),
        required=False,
        description="SALE (default), VOID (of a voided sale) or RETURN (with returnId)",
    ),
    OpenApiParameter("returnId", OpenApiTypes.UUID, required=False),
    OpenApiParameter("gift", bool, required=False, description="Leave every price out"),
    OpenApiParameter("paper", str, enum=["58mm", "80mm", "A4"], required=False),
]
PRINT = OpenApiParameter(
    "print",
    bool,
    required=False,
    description=(
        "true: this is the receipt given to the customer (the document the till prints). Only "
        "this takes a print number: the first print is the original, every later one (and any "
        "after an e-mailed receipt) says `*** COPY ***`, each audited (`receipt.print`, "
        "`receipt.reprint`). Without it (default false) the answer is a preview or a data read: "
        "nothing is counted or audited, `copy` is false and `printNumber` is 0. The same for "
        "void (`document=VOID`) and return (`returnId`) receipts, each counted on its own."
    ),
)
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "text": "text/plain; charset=utf-8"}


def _query(request, serializer_class=s.ReceiptQuerySerializer) -> dict:
    data = serializer_class(data=request.query_params.dict())
    data.is_valid(raise_exception=True)
    return {**data.validated_data, "gift": query_flag(request, "gift")}


def _document(request, sale_id, options: dict) -> selectors.ReceiptDocument:
    return selectors.receipt_document_get(
        sale_id=sale_id,
        store_ids=visible_store_ids(user=request.user),
        kind=options["document"],
        return_id=options.get("return_id"),
    )


def _view(
    request, sale_id, output: str, options: dict, *, printed: bool = False
) -> tuple[dict, dict]:
    """The document asked for as data and view; `printed`: counted and audited as one more
    receipt given (print number 1 the original, then copies), else a preview (number 0)."""
    document = _document(request, sale_id, options)
    number = 0
    if printed:
        number = services.receipt_issue(
            actor=request.user, document=document, output=output, gift=options["gift"]
        )
    data = selectors.receipt_for(
        document=document,
        tenant=request.user.tenant,
        print_number=number,
        gift=options["gift"],
        paper=options.get("paper"),
    )
    return data, rendering.receipt_view(data)


def _page(view: dict, *, preview: bool) -> HttpResponse:
    """The receipt as an HTML page under its Content-Security-Policy (a fresh style nonce)."""
    nonce = csp_nonce()
    response = HttpResponse(
        rendering.receipt_document_html(view, preview=preview, nonce=nonce),
        content_type=CONTENT_TYPES["html"],
    )
    response[CSP_HEADER] = rendering.receipt_page_policy(view, preview=preview, nonce=nonce)
    return response


class JSONErrorsView(APIView):
    """Documents (HTML, PDF, text) are answered as such; errors always as the JSON envelope."""

    content_negotiation_class = OwnFormatNegotiation


@extend_schema(tags=["receipts"])
class ReceiptTemplateView(APIView):
    """The company's receipt template, or (`?storeId=`) a store's own. A store without one
    prints with the company's, answered with `storeId: null`."""

    required_permission = {"get": "receipt:read", "put": "receipt:write"}

    def _store_id(self, request):
        store_id = query_uuid(request, "store_id")
        return None if store_id is None else store_get(store_id=store_id).pk  # 404: not ours

    @extend_schema(parameters=[STORE_ID], responses={200: s.ReceiptTemplateSerializer})
    def get(self, request):
        store_id = self._store_id(request)
        template = selectors.template_for(
            settings=tenant_settings_cached(tenant=request.user.tenant), store_id=store_id
        )
        return Response(s.ReceiptTemplateSerializer(template.as_dict()).data)

    @extend_schema(
        parameters=[STORE_ID],
        request=s.ReceiptTemplateInputSerializer,
        responses={200: s.ReceiptTemplateSerializer},
    )
    def put(self, request):
        store_id = self._store_id(request)
        data = s.ReceiptTemplateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.receipt_template_update(
            actor=request.user, tenant=request.user.tenant, store_id=store_id, **data.validated_data
        )
        return Response(s.ReceiptTemplateSerializer(template.as_dict()).data)


@extend_schema(
    tags=["receipts"],
    parameters=[
        OpenApiParameter("format", str, enum=["json", "html", "pdf", "text"], required=False),
        PRINT,
        *DOCUMENT_PARAMETERS,
    ],
    responses={
        (200, "application/json"): s.SaleReceiptSerializer,
        (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="The receipt page"),
        (200, "text/plain"): OpenApiResponse(
            OpenApiTypes.STR, description="Fixed-width lines (32 columns at 58 mm, 48 at 80 mm)"
        ),
        (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="PDF"),
    },
)
class SaleReceiptView(JSONErrorsView):
    """A receipt of the sale (or of its void, or of one of its returns): its data and HTML, or
    `?format=html|pdf|text` the document itself. `?print=true` is the receipt given: it takes
    the next print number (every one after the first, e-mails included, is marked COPY);
    without it nothing is counted."""

    required_permission = GENERATE

    def get(self, request, sale_id):
        options = _query(request, s.ReceiptOutputQuerySerializer)
        output = options.get("format") or "json"
        printed = query_flag(request, "print")
        data, view = _view(request, sale_id, output, options, printed=printed)
        if output == "json":
            return Response(
                {
                    "data": s.ReceiptDataSerializer(data).data,
                    "html": rendering.receipt_html(view),
                }
            )
        if output == "pdf":
            response = HttpResponse(rendering.receipt_pdf(view), content_type="application/pdf")
            response["Content-Disposition"] = f'inline; filename="{data["number"]}.pdf"'
            return response
        if output == "text":
            return HttpResponse(rendering.receipt_text(view), content_type=CONTENT_TYPES[output])
        return _page(view, preview=False)


@extend_schema(
    tags=["receipts"],
    parameters=[
        *DOCUMENT_PARAMETERS,
        OpenApiParameter("signature", str, required=False, description="From .../link"),
    ],
    responses={
        (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="The preview page")
    },
)
class SaleReceiptPreviewView(JSONErrorsView):
    """The receipt as a printable page sized to the paper, with a print button. Opened with the
    bearer token, or without one from a signed link (`.../link`). A preview: never counted as
    a receipt given, never marked COPY."""

    required_permission = GENERATE
    authentication_classes = [
        *api_settings.DEFAULT_AUTHENTICATION_CLASSES,
        ReceiptLinkAuthentication,
    ]

    def get(self, request, sale_id):
        options = _query(request)
        _data, view = _view(request, sale_id, "preview", options)
        response = _page(view, preview=True)
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"  # the link's signature stays on this page
        return response


@extend_schema(tags=["receipts"], responses={200: s.ReceiptLinkSerializer})
class SaleReceiptLinkView(APIView):
    """A link to the sale's preview that opens without a token for 10 minutes (as the user who
    asked for it)."""

    required_permission = GENERATE

    def get(self, request, sale_id):
        document = _document(request, sale_id, {"document": selectors.Document.SALE})
        signature, expires_at = receipt_link_sign(user=request.user, sale_id=document.sale.pk)
        path = f"/api/v1/receipts/sale/{document.sale.pk}/preview?signature={signature}"
        return Response(
            s.ReceiptLinkSerializer(
                {"url": request.build_absolute_uri(path), "expires_at": expires_at}
            ).data
        )


class ReceiptEmailThrottle(FixedWindowThrottle):
    """Receipts e-mailed per user (THROTTLE_RECEIPT_EMAIL)."""

    scope = "receipt_email"

    def get_cache_key(self, request, view):
        return f"throttle:receipt-email:{request.user.pk}"


@extend_schema(
    tags=["receipts"],
    parameters=DOCUMENT_PARAMETERS,
    request=s.ReceiptEmailInputSerializer,
    responses={200: s.ReceiptEmailSerializer},
)
class SaleReceiptEmailView(APIView):
    """E-mails the receipt (text and HTML) to `to`; rate-limited per user and audited."""

    required_permission = GENERATE
    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, ReceiptEmailThrottle]

    def post(self, request, sale_id):
        options = _query(request)
        body = s.ReceiptEmailInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = _document(request, sale_id, options)
        to = body.validated_data["to"]
        number = services.receipt_email_send(
            actor=request.user, document=document, to=to, gift=options["gift"]
        )
        return Response(
            s.ReceiptEmailSerializer(
                {"to": to, "number": document.number, "print_number": number}
            ).data
        )
