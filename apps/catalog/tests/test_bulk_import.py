from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context
from openpyxl import Workbook

from apps.audit.models import AuditLog
from apps.catalog.models import Brand, Category, Product, ProductVariant

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/bulk-import"


def post_rows(api, world, rows, query: str = ""):
    return api(world.manager).post(f"{URL}?{query}", rows, format="json")


def products(world) -> dict[str, Product]:
    with tenant_context(world.tenant):
        return {p.sku: p for p in Product.objects.alive().select_related("category", "brand")}


def test_creates_and_updates_by_sku_and_audits_once(api, world_a):
    rows = [
        {"sku": "NEW-1", "name": "Oat milk", "sellPrice": "2.49", "category": "Drinks/Plant milk",
         "brand": "Oatly", "barcode": "5901234123457"},
        {"sku": "p-100", "sellPrice": "1.25"},  # existing product (case-insensitive SKU): update
    ]  # fmt: skip
    response = post_rows(api, world_a, rows, "createMissing=true")
    assert response.status_code == 200, response.json()
    report = response.json()["data"]
    assert (report["productsCreated"], report["productsUpdated"], report["failedRows"]) == (1, 1, 0)
    assert report["createdReferences"] == {
        "categories": 1,
        "brands": 1,
        "units": 0,
        "variantValues": 0,
    }
    found = products(world_a)
    assert found["NEW-1"].category.name == "Plant milk"
    assert found["NEW-1"].brand.name == "Oatly"
    assert str(found["P-100"].sell_price) == "1.25"
    assert found["P-100"].name == "Cola 330ml"  # columns not sent are left alone
    assert AuditLog.objects.filter(action="product.bulk_import").count() == 1


def test_all_or_nothing_reports_every_bad_row_and_writes_nothing(api, world_a):
    rows = [
        {"sku": "OK-1", "name": "Fine"},
        {"sku": "BAD 2", "name": "Space in SKU"},
        {"sku": "BAD-3", "name": "Bad price", "sellPrice": "12.345"},
        {"sku": "BAD-4", "name": "Bad barcode", "barcode": "4006381333932"},
        {"sku": "BAD-5", "name": "Taken barcode", "barcode": "96385074"},
        {"sku": "BAD-6"},  # new product without a name
        {"sku": "OK-1", "name": "Twice"},
        {"sku": "BAD-8", "name": "Unknown category", "category": "Nowhere"},
        {"sku": "BAD-9", "name": "x", "colour": "red"},
    ]
    response = post_rows(api, world_a, rows)
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert sorted((d["row"], d["field"]) for d in details) == [
        (3, "sku"),
        (4, "sellPrice"),
        (5, "barcode"),
        (6, "barcode"),
        (7, "name"),
        (8, "sku"),
        (9, "category"),
        (10, "colour"),
    ]
    assert set(products(world_a)) == {"P-100"}
    assert not AuditLog.objects.filter(action="product.bulk_import").exists()


def test_partial_mode_keeps_the_good_rows(api, world_a):
    rows = [{"sku": "OK-1", "name": "Fine"}, {"sku": "BAD 2", "name": "Bad"}]
    report = post_rows(api, world_a, rows, "mode=partial").json()["data"]
    assert (report["productsCreated"], report["failedRows"]) == (1, 1)
    assert report["errors"] == [
        {"row": 3, "field": "sku", "message": report["errors"][0]["message"]}
    ]
    assert set(products(world_a)) == {"P-100", "OK-1"}


def test_partial_mode_does_not_write_a_row_it_counts_as_failed(api, world_a):
    """A row with an unknown column was reported failed, yet written."""
    rows = [{"sku": "OK-1", "name": "Fine"}, {"sku": "ODD-2", "name": "Odd", "colour": "red"}]
    report = post_rows(api, world_a, rows, "mode=partial").json()["data"]
    assert (report["productsCreated"], report["failedRows"]) == (1, 1)
    assert report["errors"] == [{"row": 3, "field": "colour", "message": "Unknown column."}]
    assert set(products(world_a)) == {"P-100", "OK-1"}


def test_dry_run_reports_and_writes_nothing(api, world_a):
    rows = [
        {"sku": "DRY-1", "name": "Dry", "category": "Brand new"},
        {"sku": "P-100", "name": "Renamed"},
    ]
    report = post_rows(api, world_a, rows, "dryRun=true&createMissing=true").json()["data"]
    assert (report["dryRun"], report["productsCreated"], report["productsUpdated"]) == (True, 1, 1)
    assert set(products(world_a)) == {"P-100"}
    assert products(world_a)["P-100"].name == "Cola 330ml"
    with tenant_context(world_a.tenant):
        assert not Category.objects.filter(name="Brand new").exists()


def test_variant_rows(api, world_a):
    rows = [
        {"sku": "TEE", "name": "Tee", "sellPrice": "10.00", "variantSku": "TEE-S-RED",
         "variantAttributes": "Size=S;Colour=Red", "variantPrice": "11.00"},
        {"sku": "TEE", "variantSku": "TEE-M-RED", "variantAttributes": "Size=M;Colour=Red"},
        {"sku": "TEE", "variantSku": "TEE-M-RED2", "variantAttributes": "Colour=Red;Size=M"},
    ]  # fmt: skip
    refused = post_rows(api, world_a, rows, "createMissing=true")
    assert refused.status_code == 400  # the third row repeats the second's combination
    assert [(d["row"], d["field"]) for d in refused.json()["error"]["details"]] == [
        (4, "variantAttributes")
    ]
    report = post_rows(api, world_a, rows[:2], "createMissing=true").json()["data"]
    assert (report["productsCreated"], report["variantsCreated"]) == (1, 2)
    with tenant_context(world_a.tenant):
        variants = {v.sku: v for v in ProductVariant.objects.alive().filter(product__sku="TEE")}
        assert sorted(variants) == ["TEE-M-RED", "TEE-S-RED"]
        assert variants["TEE-S-RED"].name == "Red / S"
        assert str(variants["TEE-S-RED"].price) == "11.00"
    # importing again updates instead of duplicating
    again = post_rows(
        api, world_a, [{**rows[0], "variantPrice": "12.00"}], "createMissing=true"
    ).json()["data"]
    assert (again["productsUpdated"], again["variantsUpdated"], again["variantsCreated"]) == (
        1,
        1,
        0,
    )


def test_unknown_variant_type_without_create_missing(api, world_a):
    rows = [{"sku": "X", "name": "X", "variantSku": "X-1", "variantAttributes": "Flavour=Mint"}]
    response = post_rows(api, world_a, rows)
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "variantAttributes"


def test_csv_upload(api, world_a):
    csv = "sku,name,sellPrice,brand\nC-1,From CSV,3.50,Acme\nC-2,Second,1.00,Acme\n"
    upload = io.BytesIO(csv.encode())
    upload.name = "products.csv"
    response = api(world_a.manager).post(
        f"{URL}?createMissing=true", {"file": upload}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["productsCreated"] == 2
    assert products(world_a)["C-1"].brand.name == "Acme"


def test_xlsx_upload(api, world_a):
    book = Workbook()
    sheet = book.active
    sheet.append(["sku", "name", "sellPrice", "trackStock"])
    sheet.append(["X-1", "From Excel", 4.5, "false"])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "products.xlsx"
    response = api(world_a.manager).post(URL, {"file": buffer}, format="multipart")
    assert response.status_code == 200, response.json()
    product = products(world_a)["X-1"]
    assert (str(product.sell_price), product.track_stock) == ("4.50", False)


@pytest.mark.parametrize(
    "name, content", [("p.txt", b"sku\nA"), ("p.xlsx", b"not a zip"), ("p.csv", b"\xff\xfe\x00")]
)
def test_unreadable_files_are_400(api, world_a, name, content):
    upload = io.BytesIO(content)
    upload.name = name
    response = api(world_a.manager).post(URL, {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "file"


@pytest.mark.parametrize("body", [[], {}, [1, 2], "rows"])
def test_malformed_bodies_are_400(api, world_a, body):
    assert post_rows(api, world_a, body).status_code == 400


def test_cashier_cannot_import(api, world_a):
    assert (
        api(world_a.cashier).post(URL, [{"sku": "A", "name": "A"}], format="json").status_code
        == 403
    )


def test_management_command(world_a, tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("sku,name,sellPrice\nCMD-1,Command line,1.99\n")
    out = io.StringIO()
    call_command("import_products", str(path), tenant="acme", stdout=out)
    assert "1 products created" in out.getvalue()
    assert str(products(world_a)["CMD-1"].sell_price) == "1.99"
    with pytest.raises(CommandError):
        call_command("import_products", str(path), tenant="nope", stdout=io.StringIO())


def test_brand_reference_is_reused_case_insensitively(api, world_a):
    post_rows(api, world_a, [{"sku": "A-1", "name": "A", "brand": "Zed"}], "createMissing=true")
    post_rows(api, world_a, [{"sku": "A-2", "name": "B", "brand": "ZED"}], "createMissing=true")
    with tenant_context(world_a.tenant):
        assert Brand.objects.filter(name__iexact="zed").count() == 1


# --- text PostgreSQL cannot store; a dry run answers what the import would (issue 26) ----------

NUL, SURROGATE = "Null characters are not allowed.", "Surrogate characters are not allowed."


def post_raw(api, world, body: bytes, query: str):
    """A JSON body as bytes: a lone surrogate is valid JSON (`"\\ud800"`) the test client's own
    encoder cannot produce."""
    return api(world.manager).post(f"{URL}?{query}", body, content_type="application/json")


def post_file(api, world, name: str, content: bytes, query: str):
    upload = io.BytesIO(content)
    upload.name = name
    return api(world.manager).post(f"{URL}?{query}", {"file": upload}, format="multipart")


def catalogue_state(world) -> tuple:
    with tenant_context(world.tenant):
        return (
            sorted(Product.objects.values_list("sku", "name")),
            sorted(ProductVariant.objects.values_list("sku", "name")),
            sorted(Category.objects.values_list("name", flat=True)),
            sorted(Brand.objects.values_list("name", flat=True)),
            AuditLog.objects.filter(action="product.bulk_import").count(),
        )


def dry_and_real(send, world):
    """The dry run's and the real import's answers, the catalogue unchanged by the dry run."""
    before = catalogue_state(world)
    dry = send("dryRun=true")
    assert catalogue_state(world) == before
    return dry, send("dryRun=false")


def answer(response) -> tuple:
    body = response.json()
    if body["success"]:
        body["data"].pop("dryRun")
    return response.status_code, body


JSON_REFUSALS = [
    # (row as JSON text, error details)
    ('{"sku": "N-1", "name": "a\\u0000b"}', [{"row": 2, "field": "name", "message": NUL}]),
    ('{"sku": "N-1", "name": "a\\ud800"}', [{"row": 2, "field": "name", "message": SURROGATE}]),
    (
        '{"sku": "N-1", "name": "x", "category": "Drinks/\\udfff", "brand": "a\\u0000"}',
        [
            {"row": 2, "field": "brand", "message": NUL},
            {"row": 2, "field": "category", "message": SURROGATE},
        ],
    ),
    (  # a column name is echoed escaped, never as text the answer cannot encode
        '{"sku": "N-1", "name": "x", "col\\ud800": "1"}',
        [{"row": 2, "field": "col\\ud800", "message": SURROGATE}],
    ),
    (
        '{"sku": "N-1", "name": "x", "variantSku": "N-1-A", "variantAttributes": "Size=\\u0000"}',
        [{"row": 2, "field": "variantAttributes", "message": NUL}],
    ),
]


@pytest.mark.parametrize("row, details", JSON_REFUSALS)
def test_json_text_postgresql_cannot_store_is_refused_per_row_dry_run_alike(
    api, world_a, row, details
):
    body = f'[{{"sku": "OK-1", "name": "Fine"}}, {row}]'.encode()
    before = catalogue_state(world_a)
    dry, real = dry_and_real(
        lambda q: post_raw(api, world_a, body, f"createMissing=true&{q}"), world_a
    )
    assert real.status_code == 400
    error = real.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == [{**detail, "row": 3} for detail in details]
    assert answer(dry) == answer(real)
    assert catalogue_state(world_a) == before  # all-or-nothing: the good row is not written


def test_partial_mode_refuses_the_row_and_keeps_the_good_one_dry_run_alike(api, world_a):
    body = b'[{"sku": "OK-1", "name": "Fine"}, {"sku": "N-2", "name": "a\\ud800"}]'
    before = catalogue_state(world_a)
    dry, real = dry_and_real(lambda q: post_raw(api, world_a, body, f"mode=partial&{q}"), world_a)
    assert real.status_code == 200
    report = real.json()["data"]
    assert (report["productsCreated"], report["failedRows"]) == (1, 1)
    assert report["errors"] == [{"row": 3, "field": "name", "message": SURROGATE}]
    assert answer(dry) == answer(real)
    assert set(products(world_a)) == {"P-100", "OK-1"}
    assert catalogue_state(world_a)[0] == sorted([*before[0], ("OK-1", "Fine")])


def test_csv_nul_is_refused_per_row_dry_run_alike(api, world_a):
    content = b"sku,name,brand\nOK-1,Fine,Acme\nN-1,a\x00b,Acme\nN-2,Fine too,Ac\x00me\n"
    before = catalogue_state(world_a)
    dry, real = dry_and_real(
        lambda q: post_file(api, world_a, "p.csv", content, f"createMissing=true&{q}"), world_a
    )
    assert real.status_code == 400
    assert real.json()["error"]["details"] == [
        {"row": 3, "field": "name", "message": NUL},
        {"row": 4, "field": "brand", "message": NUL},
    ]
    assert answer(dry) == answer(real)
    assert catalogue_state(world_a) == before


def test_csv_lone_surrogate_is_no_utf8_dry_run_alike(api, world_a):
    content = "sku,name\nN-1,a\ud800\n".encode("utf-8", "surrogatepass")
    before = catalogue_state(world_a)
    dry, real = dry_and_real(lambda q: post_file(api, world_a, "p.csv", content, q), world_a)
    assert real.status_code == 400
    assert real.json()["error"]["details"] == [
        {"field": "file", "message": "The CSV file must be UTF-8."}
    ]
    assert answer(dry) == answer(real)
    assert catalogue_state(world_a) == before


def test_csv_field_over_the_csv_modules_limit_is_400(api, world_a):
    content = b'sku,name\nN-1,"' + b"x" * 200_000 + b'"\n'
    response = post_file(api, world_a, "p.csv", content, "")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "file"
    assert set(products(world_a)) == {"P-100"}


def xlsx_with_name(name_xml: str) -> bytes:
    """A workbook whose row 2 `name` cell holds `name_xml` as written into the sheet's XML: NUL
    and lone surrogates can only get there raw or as character references (XML allows neither)."""
    import zipfile

    book = Workbook()
    book.active.append(["sku", "name"])
    book.active.append(["N-1", "PLACEHOLDER"])
    written = io.BytesIO()
    book.save(written)
    source, crafted = zipfile.ZipFile(written), io.BytesIO()
    with zipfile.ZipFile(crafted, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            marker = name_xml.encode("utf-8", "surrogatepass")
            target.writestr(item, data.replace(b"PLACEHOLDER", marker))
    return crafted.getvalue()


@pytest.mark.parametrize("name_xml", ["a\x00b", "a&#0;b", "a\ud800b", "a&#xD800;b"])
def test_xlsx_nul_or_lone_surrogate_is_400_dry_run_alike(api, world_a, name_xml):
    content = xlsx_with_name(name_xml)
    before = catalogue_state(world_a)
    dry, real = dry_and_real(lambda q: post_file(api, world_a, "p.xlsx", content, q), world_a)
    assert real.status_code == 400
    assert real.json()["error"]["details"] == [
        {"field": "file", "message": "Not a readable .xlsx workbook."}
    ]
    assert answer(dry) == answer(real)
    assert catalogue_state(world_a) == before


def test_xlsx_crafting_keeps_a_plain_name(api, world_a):
    response = post_file(api, world_a, "p.xlsx", xlsx_with_name("Plain"), "")
    assert response.status_code == 200, response.json()
    assert products(world_a)["N-1"].name == "Plain"


def test_variant_with_too_many_attributes_is_refused_dry_run_alike(api, world_a):
    attributes = ";".join(f"T{i}=v" for i in range(11))  # 11 keys of 36 + 10 commas > 400
    rows = [{"sku": "V", "name": "V", "variantSku": "V-1", "variantAttributes": attributes}]
    before = catalogue_state(world_a)
    dry, real = dry_and_real(
        lambda q: post_rows(api, world_a, rows, f"createMissing=true&{q}"), world_a
    )
    assert real.status_code == 400
    assert real.json()["error"]["details"] == [
        {"row": 2, "field": "variantAttributes", "message": "At most 10 attributes."}
    ]
    assert answer(dry) == answer(real)
    assert catalogue_state(world_a) == before


def test_long_variant_values_make_a_name_that_fits(api, world_a):
    attributes = ";".join(f"T{i}={chr(65 + i) * 60}" for i in range(4))  # 4 * 60 + 3 * 3 > 200
    rows = [{"sku": "V", "name": "V", "variantSku": "V-1", "variantAttributes": attributes}]
    dry, real = dry_and_real(
        lambda q: post_rows(api, world_a, rows, f"createMissing=true&{q}"), world_a
    )
    assert real.status_code == 200, real.json()
    assert answer(dry) == answer(real)
    with tenant_context(world_a.tenant):
        name = ProductVariant.objects.get(sku="V-1").name
    assert name == " / ".join(chr(65 + i) * 60 for i in range(4))[:200]
