"""What a receipt template may say, and the rules for it: papers, optional fields, locales.

Shared by the company's template (kept in its settings, here in `apps.tenants`) and the stores'
overrides (`apps.receipts.models.ReceiptTemplate`), so both are validated by the same code; it lives
in the lower of the two apps (the layers, pyproject.toml)."""

from __future__ import annotations

from typing import Any

from babel import Locale, UnknownLocaleError

from apps.core.errors import ValidationFailed
from apps.core.renderers import camel_key

# paper → (the settings' width in millimetres, the text format's columns)
PAPERS: dict[str, tuple[int, int]] = {"58mm": (58, 32), "80mm": (80, 48), "A4": (210, 80)}
PAPER_BY_WIDTH = {width: paper for paper, (width, _columns) in PAPERS.items()}
# the optional parts of a receipt and whether they show by default
FIELD_DEFAULTS: dict[str, bool] = {
    "cashier": True,
    "customer": True,
    "tax_summary": True,
    "qr": True,
    "loyalty": True,
    "return_policy": False,
}
DEFAULT_LOCALE = "en_US"
TEXT_MAX = 1000


def columns_of(paper: str) -> int:
    return PAPERS[paper][1]


def paper_validate(paper: str, *, field: str = "paper") -> str:
    if paper not in PAPERS:
        raise ValidationFailed.for_field(field, f"Must be one of: {', '.join(PAPERS)}.")
    return paper


def fields_validate(fields: Any, *, field: str = "fields") -> dict[str, bool]:
    """`fields` (a partial map of FIELD_DEFAULTS' keys to booleans) completed with the defaults."""
    if not isinstance(fields, dict):
        raise ValidationFailed.for_field(field, "Must be an object of true/false flags.")
    details = [
        {"field": f"{field}.{camel_key(str(name))}", "message": "Unknown field."}
        if name not in FIELD_DEFAULTS
        else {"field": f"{field}.{camel_key(name)}", "message": "Must be true or false."}
        for name, value in sorted(fields.items(), key=lambda item: str(item[0]))
        if name not in FIELD_DEFAULTS or not isinstance(value, bool)
    ]
    if details:
        raise ValidationFailed(details=details)
    return {**FIELD_DEFAULTS, **fields}


def locale_validate(locale: str, *, field: str = "locale") -> str:
    """A locale Babel knows, in its canonical form (`pt-PT` → `pt_PT`)."""
    try:
        return str(Locale.parse(str(locale).replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        raise ValidationFailed.for_field(field, "Unknown locale (e.g. en_US, pt_PT).") from None
