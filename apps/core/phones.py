"""Phone numbers: one normaliser, so that "+351 912 345 678", "912 345 678" and "00351912345678"
typed in a Portuguese shop are one number, stored and compared as E.164 ("+351912345678").

A number without its country code is read in the company's country (`TenantSettings.country`,
ISO 3166-1 alpha-2); a company without one must type the "+CC" form. The caller reads the
country (core sits below the tenants app) and passes it."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from apps.core.errors import ValidationFailed

# What a person types into a phone field: digits and the usual separators. phonenumbers itself
# would pick a number out of free text ("call 912 345 678 after 6"), which a form must refuse.
TYPED = re.compile(r"^\+?[0-9 ()./-]{4,40}$")
# what the API schema says of a phone field
PHONE_OUTPUT = "E.164, e.g. +351912345678 (blank: none)"
PHONE_INPUT = (
    "Any usual form; without its +CC read in the company's country; stored and answered in E.164"
)
CC_FORM = "Type it with its country code, e.g. +351 912 345 678: the company has no country set."


def _parsed(text: str, country: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, country.upper() or None)
    except NumberParseException:
        return None


def phone_e164(text: str, *, country: str) -> str | None:
    """The E.164 form of `text` when it is a whole valid phone number however it was typed
    ("912 345 678" in PT, "+351912345678", "00351 912 345 678"); None for anything else (part
    of a number, a name, a number without its "+CC" when there is no country)."""
    text = text.strip()
    if not TYPED.match(text):
        return None
    number = _parsed(text, country)
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_national_digits(text: str, *, country: str) -> str | None:
    """The national significant number ("912345678") of `text` when it is a whole valid phone
    number however typed, else None: the digits every stored form of it contains (E.164, or a
    number kept as typed with or without its "+CC"), a trunk prefix ("07400…" in GB) aside."""
    e164 = phone_e164(text, country=country)
    if e164 is None:
        return None
    return phonenumbers.national_significant_number(phonenumbers.parse(e164))


def phone_normalise(raw: str, *, country: str, field: str = "phone") -> str:
    """What a write stores: the E.164 form of `raw` ('' stays ''); a number that is not a valid
    one is a 400 on `field`, saying what to type."""
    text = raw.strip()
    if not text:
        return ""
    normalised = phone_e164(text, country=country)
    if normalised is not None:
        return normalised
    if not TYPED.match(text):
        raise ValidationFailed.for_field(
            field, "A phone number: digits, with optional '+', spaces, '-', '.', '(' or ')'."
        )
    if not country and not text.startswith("+"):
        raise ValidationFailed.for_field(field, CC_FORM)
    where = f" in {country.upper()}" if country and not text.startswith("+") else ""
    raise ValidationFailed.for_field(field, f"Not a valid phone number{where}.")
