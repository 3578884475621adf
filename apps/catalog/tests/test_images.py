from __future__ import annotations

import io

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context
from PIL import Image

from apps.catalog.models import ProductImage
from apps.media.models import ImageAsset

pytestmark = pytest.mark.django_db


def image_bytes(fmt: str, size=(4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def named_file(data: bytes, name: str) -> io.BytesIO:
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


def upload(api, world, data: bytes, name: str = "photo.png"):
    url = f"/api/v1/products/{world.product.pk}/images"
    return api(world.manager).post(url, {"file": named_file(data, name)}, format="multipart")


@pytest.mark.parametrize(
    "fmt, content_type", [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_upload_and_serve_publicly_with_caching(api, client, world_a, fmt, content_type):
    data = image_bytes(fmt)
    response = upload(api, world_a, data, name="whatever.bin")  # the extension is not trusted
    assert response.status_code == 201, response.json()
    url = response.json()["data"]["url"]
    served = client.get(url)  # no token: public
    assert served.status_code == 200
    assert served["Content-Type"] == content_type
    assert served.content == data
    assert served["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(url, HTTP_IF_NONE_MATCH=served["ETag"]).status_code == 304
    product = api(world_a.cashier).get(f"/api/v1/products/{world_a.product.pk}").json()["data"]
    assert product["imageUrls"] == [url]


@pytest.mark.parametrize(
    "data, name",
    [
        (b"GIF89a" + b"\x00" * 40, "a.gif"),
        (b"%PDF-1.7 not an image", "doc.png"),  # a PDF named .png
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "broken.png"),  # PNG header, broken body
        (b"", "empty.png"),
    ],
)
def test_other_files_are_400_and_store_nothing(api, world_a, data, name):
    if name == "a.gif":
        data = image_bytes("GIF")
    response = upload(api, world_a, data, name=name)
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "file"
    assert ImageAsset.objects.count() == 0
    with tenant_context(world_a.tenant):
        assert ProductImage.objects.count() == 0


@override_settings(IMAGE_MAX_BYTES=1000)
def test_oversized_image_is_400(api, world_a):
    response = upload(api, world_a, image_bytes("PNG", size=(300, 300)) + b"\x00" * 2000)
    assert response.status_code == 400
    assert "larger than" in response.json()["error"]["details"][0]["message"]


def test_missing_file_and_unknown_image(api, client, world_a):
    url = f"/api/v1/products/{world_a.product.pk}/images"
    assert api(world_a.manager).post(url, {}, format="multipart").status_code == 400
    assert client.get("/api/v1/images/00000000-0000-0000-0000-000000000000").status_code == 404


def test_cashier_cannot_upload(api, world_a):
    url = f"/api/v1/products/{world_a.product.pk}/images"
    data = named_file(image_bytes("PNG"), "x.png")
    assert api(world_a.cashier).post(url, {"file": data}, format="multipart").status_code == 403
