from django.urls import path

from apps.audit.api.views import PlatformAuditListView, TenantAuditListView

urlpatterns = [
    path("audit", TenantAuditListView.as_view(), name="audit"),
    path("audit/all", PlatformAuditListView.as_view(), name="audit-all"),
]
