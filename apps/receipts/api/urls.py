from django.urls import path

from apps.receipts.api import views

SALE = "receipts/sale/<uuid:sale_id>"

urlpatterns = [
    path("receipts/template", views.ReceiptTemplateView.as_view(), name="receipt-template"),
    path(SALE, views.SaleReceiptView.as_view(), name="receipt-sale"),
    path(f"{SALE}/preview", views.SaleReceiptPreviewView.as_view(), name="receipt-preview"),
    path(f"{SALE}/link", views.SaleReceiptLinkView.as_view(), name="receipt-link"),
    path(f"{SALE}/email", views.SaleReceiptEmailView.as_view(), name="receipt-email"),
]
