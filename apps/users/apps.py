from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "apps.users"
    label = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from apps.core import operator
        from apps.core.plans import PlanResource, usage_counter_register
        from apps.users import schema  # noqa: F401  (OpenAPI extension for the JWT authenticator)
        from apps.users.cache import auth_user
        from apps.users.selectors import active_user_count

        usage_counter_register(PlanResource.USERS, active_user_count)
        operator.auth_user_loader.register(auth_user)  # apps.core.hooks
