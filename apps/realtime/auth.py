"""Who is on the other end of a websocket: the same checks as the REST authentication (signature,
expiry, token version, active user, tenant claim = user's tenant, company not suspended, tenant
domain accepts only its own tokens), then the groups that user may listen to. Run at connect and
again whenever the user's access changes (`access.changed`), always against the database and the
current time."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs

from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from apps.core.events import all_stores_group, store_group, tenant_group, user_group
from apps.core.middleware import verified_access_token
from apps.core.roles import Role
from apps.users.models import User


@dataclass(frozen=True)
class SocketIdentity:
    user_id: str
    schema: str
    expires_at: int  # epoch seconds: the socket is closed when the token expires
    groups: list[str] = field(default_factory=list)


def _host(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return value.decode("latin-1").split(":")[0].lower()
    return ""


def socket_identity(scope) -> SocketIdentity | None:
    from apps.stores.selectors import store_ids_for_user
    from apps.tenants.models import Domain

    connection.set_schema_to_public()
    raw = parse_qs(scope.get("query_string", b"").decode()).get("token", [""])[0]
    token = verified_access_token(raw) if raw else None  # signature, type, expiry at now
    if token is None:
        return None
    user = User.objects.select_related("tenant").filter(pk=token.get("sub")).first()
    if user is None or not user.can_sign_in or not user.tenant_id:
        return None
    tenant = user.tenant
    if token.get("tv") != user.token_version or token.get("tenant") != tenant.schema_name:
        return None
    if tenant.is_suspended:
        return None
    host = _host(scope)
    if host and host not in settings.API_HOSTS:
        domain = Domain.objects.filter(domain=host).first()
        if domain is not None and domain.tenant_id != tenant.pk:
            return None
    groups = [tenant_group(tenant.schema_name), user_group(user.pk)]
    if user.role in (Role.ADMIN, Role.MANAGER):
        groups.append(all_stores_group(tenant.schema_name))
    else:
        with tenant_context(tenant):
            groups += [
                store_group(tenant.schema_name, store_id)
                for store_id in store_ids_for_user(user_id=user.pk)
            ]
    return SocketIdentity(
        user_id=str(user.pk), schema=tenant.schema_name, expires_at=int(token["exp"]), groups=groups
    )
