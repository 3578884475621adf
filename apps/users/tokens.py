"""Issuing and revoking JWTs (simplejwt with its blacklist)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from apps.core.operator import AUTH_AT_CLAIM
from apps.users.models import User


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


# The time (epoch seconds) of the password check that opened the session. Kept through refresh
# rotation, so a refreshed token is exactly as fresh as the login behind it: operator writes inside
# a company need it recent (apps.core.operator, OPERATOR_WRITE_REAUTH_MINUTES).


def token_pair_issue(*, user: User, rotated_from: Mapping[str, Any] | None = None) -> TokenPair:
    """A pair of tokens (the refresh token recorded as outstanding) carrying the user's tenant
    schema, role and token version, and `authAt`: now, for a session opened by a password check;
    the rotated refresh token's own (`rotated_from`, its payload) when the session is renewed —
    absent there, absent here."""
    refresh = RefreshToken()  # fresh jti, iat and exp
    refresh[api_settings.USER_ID_CLAIM] = str(user.pk)
    refresh["tenant"] = user.tenant.schema_name if user.tenant_id else None
    refresh["role"] = user.role
    refresh["tv"] = user.token_version
    if rotated_from is None:
        refresh[AUTH_AT_CLAIM] = int(refresh.current_time.timestamp())
    elif isinstance(rotated_from.get(AUTH_AT_CLAIM), int):
        refresh[AUTH_AT_CLAIM] = rotated_from[AUTH_AT_CLAIM]
    # Recorded after the claims are set, so the stored token is the one the client holds.
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[api_settings.JTI_CLAIM],
        token=str(refresh),
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def refresh_tokens_blacklist_all(*, user: User) -> int:
    """Blacklists every unexpired refresh token of `user` not yet blacklisted."""
    pending = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    ).values_list("id", flat=True)
    rows = [BlacklistedToken(token_id=token_id) for token_id in pending]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
