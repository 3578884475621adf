from django.urls import path

from apps.devtools.api.views import LogEntryListView

urlpatterns = [
    path("super-admin/logs", LogEntryListView.as_view(), name="super-admin-logs"),
]
