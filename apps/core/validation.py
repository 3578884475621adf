"""Validators for values the domain checks itself (services), raising ValidationFailed."""

from __future__ import annotations

import re
import zoneinfo
from decimal import Decimal
from functools import lru_cache

from apps.core.errors import ValidationFailed

# ISO 4217 codes in use, with their minor units (decimal places).
CURRENCY_PLACES: dict[str, int] = {
    **dict.fromkeys(
        [
            "AED",
            "AFN",
            "ALL",
            "AMD",
            "ANG",
            "AOA",
            "ARS",
            "AUD",
            "AWG",
            "AZN",
            "BAM",
            "BBD",
            "BDT",
            "BGN",
            "BMD",
            "BND",
            "BOB",
            "BRL",
            "BSD",
            "BTN",
            "BWP",
            "BYN",
            "BZD",
            "CAD",
            "CDF",
            "CHF",
            "CNY",
            "COP",
            "CRC",
            "CUP",
            "CVE",
            "CZK",
            "DKK",
            "DOP",
            "DZD",
            "EGP",
            "ERN",
            "ETB",
            "EUR",
            "FJD",
            "FKP",
            "GBP",
            "GEL",
            "GHS",
            "GIP",
            "GMD",
            "GTQ",
            "GYD",
            "HKD",
            "HNL",
            "HTG",
            "HUF",
            "IDR",
            "ILS",
            "INR",
            "IRR",
            "JMD",
            "KES",
            "KGS",
            "KHR",
            "KPW",
            "KYD",
            "KZT",
            "LAK",
            "LBP",
            "LKR",
            "LRD",
            "LSL",
            "MAD",
            "MDL",
            "MGA",
            "MKD",
            "MMK",
            "MNT",
            "MOP",
            "MRU",
            "MUR",
            "MVR",
            "MWK",
            "MXN",
            "MYR",
            "MZN",
            "NAD",
            "NGN",
            "NIO",
            "NOK",
            "NPR",
            "NZD",
            "PAB",
            "PEN",
            "PGK",
            "PHP",
            "PKR",
            "PLN",
            "QAR",
            "RON",
            "RSD",
            "RUB",
            "SAR",
            "SBD",
            "SCR",
            "SDG",
            "SEK",
            "SGD",
            "SHP",
            "SLE",
            "SOS",
            "SRD",
            "SSP",
            "STN",
            "SYP",
            "SZL",
            "THB",
            "TJS",
            "TMT",
            "TOP",
            "TRY",
            "TTD",
            "TWD",
            "TZS",
            "UAH",
            "USD",
            "UYU",
            "UZS",
            "VES",
            "VND",
            "WST",
            "XCD",
            "YER",
            "ZAR",
            "ZMW",
            "ZWL",
        ],
        2,
    ),
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_text(value: str | None, *, field: str, required: bool = True) -> str:
    """`value` without surrounding whitespace; a required one may not end up empty (400)."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed.for_field(field, "This field may not be blank.")
    return value


def validate_timezone(value: str, *, field: str) -> str:
    if value not in _time_zones():
        raise ValidationFailed.for_field(field, f"'{value}' is not an IANA time zone.")
    return value


def validate_currency(value: str, *, field: str) -> str:
    code = value.upper()
    if code not in CURRENCY_PLACES:
        raise ValidationFailed.for_field(field, f"'{value}' is not an ISO 4217 currency code.")
    return code


def validate_country(value: str, *, field: str) -> str:
    """An ISO 3166-1 alpha-2 code (upper case), or blank for none."""
    import phonenumbers

    code = value.strip().upper()
    if code and code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationFailed.for_field(field, f"'{value}' is not an ISO 3166-1 alpha-2 country.")
    return code


def validate_range(value: Decimal | int, *, field: str, low=None, high=None):
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValidationFailed.for_field(field, f"Must be {bounds}.")
    return value


def validate_pattern(value: str, *, field: str, pattern: re.Pattern, message: str) -> str:
    if not pattern.match(value):
        raise ValidationFailed.for_field(field, message)
    return value
