"""Signed preview links: a browser opens a receipt's preview without an Authorization header.

The link carries, signed with the server's key, the company (schema), the sale, the user who made
it and that user's token version; it is valid for `RECEIPT_LINK_SECONDS` from its signing, checked
against the current time when it is opened. The company is only ever taken from that signature,
and the user is read fresh when it is opened: a deactivated user, a sign-out everywhere (new token
version) or a suspended company ends every link at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.utils import timezone

SALT = "mipos.receipts.preview-link"


@dataclass(frozen=True)
class LinkClaims:
    schema: str
    sale_id: str
    user_id: str
    token_version: int


def receipt_link_sign(*, user, sale_id: UUID) -> tuple[str, datetime]:
    """The signature for the preview of `sale_id`, and when it expires."""
    signature = signing.TimestampSigner(salt=SALT).sign_object(
        {
            "t": user.tenant.schema_name,
            "s": str(sale_id),
            "u": str(user.pk),
            "v": user.token_version,
        }
    )
    return signature, timezone.now() + timedelta(seconds=settings.RECEIPT_LINK_SECONDS)


def receipt_link_verify(signature: str) -> LinkClaims | None:
    """The link's claims, or None when it was not signed here or has expired (now)."""
    try:
        claims = signing.TimestampSigner(salt=SALT).unsign_object(
            signature, max_age=settings.RECEIPT_LINK_SECONDS
        )
        return LinkClaims(str(claims["t"]), str(claims["s"]), str(claims["u"]), int(claims["v"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
