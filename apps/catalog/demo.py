"""A realistic demo catalogue, generated deterministically (same rows every run)."""

from __future__ import annotations

import random

from apps.catalog.validation import gs1_check_digit_ok

CATEGORIES = {
    "Drinks/Soft drinks": ["Cola", "Lemonade", "Orange soda", "Ginger ale", "Iced tea"],
    "Drinks/Water": ["Still water", "Sparkling water", "Flavoured water"],
    "Drinks/Coffee & tea": ["Espresso beans", "Ground coffee", "Green tea", "Black tea"],
    "Food/Snacks": ["Potato chips", "Pretzels", "Popcorn", "Trail mix", "Granola bar"],
    "Food/Bakery": ["Sourdough loaf", "Croissant", "Bagel", "Muffin"],
    "Food/Dairy": ["Whole milk", "Greek yogurt", "Cheddar", "Butter"],
    "Household/Cleaning": ["Dish soap", "Surface spray", "Sponges", "Bin bags"],
    "Personal care": ["Shampoo", "Toothpaste", "Hand soap", "Deodorant"],
}
APPAREL = ["T-shirt", "Hoodie", "Cap", "Socks"]
BRANDS = ["Acme", "Northwind", "Contoso", "Fabrikam", "Globex"]
UNITS = {"Drinks": "Piece", "Food": "Piece", "Household": "Piece", "Personal care": "Piece"}
SIZES = ["S", "M", "L", "XL"]
COLORS = ["Black", "White", "Navy"]


def ean13(seed: int) -> str:
    body = f"200{seed:09d}"  # GS1 prefix 20-29: for internal use
    for check in "0123456789":
        if gs1_check_digit_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


def demo_rows() -> list[dict]:
    rng = random.Random(2026)
    rows: list[dict] = []
    seq = 0
    for path, kinds in CATEGORIES.items():
        for kind in kinds:
            for brand in rng.sample(BRANDS, 3):
                for size in ("small", "large"):
                    seq += 1
                    price = rng.randint(99, 1999) / 100
                    rows.append(
                        {
                            "sku": f"DEMO-{seq:04d}",
                            "name": f"{brand} {kind} ({size})",
                            "barcode": ean13(seq),
                            "category": path,
                            "brand": brand,
                            "unit": "Piece",
                            "status": "ACTIVE" if seq % 17 else "DRAFT",
                            "costPrice": f"{price * 0.55:.2f}",
                            "sellPrice": f"{price:.2f}",
                        }
                    )
    for kind in APPAREL:
        seq += 1
        sku = f"DEMO-{seq:04d}"
        base = {
            "sku": sku,
            "name": f"MIPOS {kind}",
            "category": "Apparel",
            "brand": "Acme",
            "unit": "Piece",
            "status": "ACTIVE",
            "costPrice": "6.00",
            "sellPrice": "14.90",
        }
        for size in SIZES:
            for color in COLORS:
                seq += 1
                rows.append(
                    {
                        **base,
                        "variantSku": f"{sku}-{size}-{color[:3].upper()}",
                        "variantBarcode": ean13(seq),
                        "variantAttributes": f"Size={size};Color={color}",
                    }
                )
    return rows
