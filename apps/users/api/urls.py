from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.users.api.views import PinView, ProfileView, StaffViewSet

router = SimpleRouter(trailing_slash="")
router.register("users", StaffViewSet, basename="users")

urlpatterns = [
    path("users/me", ProfileView.as_view(), name="users-me"),
    path("users/me/pin", PinView.as_view(), name="users-me-pin"),
    *router.urls,
]
