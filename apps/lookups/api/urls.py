from django.urls import path

from apps.lookups.api.views import LookupView

urlpatterns = [path("lookups/<str:entity>", LookupView.as_view(), name="lookup")]
