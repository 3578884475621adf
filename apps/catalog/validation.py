"""Catalogue value rules: barcodes (GS1 check digits), SKUs and whole-unit quantities."""

from __future__ import annotations

import re
from decimal import Decimal

from apps.core.errors import ValidationFailed

SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
BARCODE_PATTERN = re.compile(r"^[\x21-\x7E]{1,64}$")  # printable ASCII, as scanners send
GS1_LENGTHS = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13"}


def gs1_check_digit_ok(code: str) -> bool:
    """GS1 mod-10: weights 3,1,3,1… from the right, excluding the check digit."""
    digits = [int(char) for char in code]
    body, check = digits[:-1], digits[-1]
    total = sum(digit * (3 if index % 2 == 0 else 1) for index, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def clean_barcode(value: str | None, *, field: str = "barcode") -> str | None:
    if value is None:
        return None
    code = value.strip()
    if not code:
        return None
    if not BARCODE_PATTERN.match(code):
        raise ValidationFailed.for_field(field, "Up to 64 printable characters, no spaces.")
    if code.isdigit() and len(code) in GS1_LENGTHS and not gs1_check_digit_ok(code):
        raise ValidationFailed.for_field(field, f"Invalid {GS1_LENGTHS[len(code)]} check digit.")
    return code


def clean_sku(value: str, *, field: str = "sku") -> str:
    sku = (value or "").strip()
    if not SKU_PATTERN.match(sku):
        raise ValidationFailed.for_field(
            field, "1-64 characters: letters, digits, '.', '_', '/' or '-'."
        )
    return sku


def whole_units_check(*, field: str, quantity: Decimal, allows_fraction: bool | None) -> None:
    """400 on `field` when `quantity` is not a whole number and the product's unit allows no
    fractions (a product without a unit counts in whole units). The one check every quantity
    input goes through: sales, returns, stock changes, counts, transfers and receipts."""
    if not allows_fraction and quantity != quantity.to_integral_value():
        raise ValidationFailed.for_field(field, "This product is sold in whole units.")
