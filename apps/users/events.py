from apps.core.events import publish_event
from apps.users.models import User


def user_changed(event: str, user: User) -> None:
    """user.created / user.updated / user.deactivated / user.restored / user.deleted, to the
    user's company (whoever made the change, a super admin included)."""
    if not user.tenant_id:
        return
    publish_event(
        event,
        {
            "id": user.pk,
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "isActive": user.is_active,
        },
        schema=user.tenant.schema_name,
    )
