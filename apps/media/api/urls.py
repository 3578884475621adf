from django.urls import path

from apps.media.api.views import PublicImageView

urlpatterns = [path("images/<uuid:image_id>", PublicImageView.as_view(), name="image")]
