"""The console's sign-in form: the API login's rules, budget and audit (apps.users'
`console_session_login`), for active super admins only."""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from apps.core.context import current
from apps.core.errors import ApplicationError, RateLimited
from apps.users.services.sessions import console_session_login


class ConsoleLoginForm(AdminAuthenticationForm):
    """Django's admin login form, with the credentials checked by the users' service instead of
    `authenticate()`: a failure here counts in the API's per-IP and per-account budget, and a
    spent budget refuses even the right password (the API answers 429 then)."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        # Django's adds "both fields may be case-sensitive": the email is not
        "invalid_login": "Please enter the correct %(username)s and password for a staff account.",
    }

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            try:
                self.user_cache = console_session_login(
                    email=email, password=password, ip=current().ip
                )
            except RateLimited as refused:
                raise ValidationError(
                    "Too many failed sign-in attempts. Retry in %(seconds)s seconds.",
                    code="rate_limited",
                    params={"seconds": refused.retry_after},
                ) from None
            except ApplicationError:
                raise self.get_invalid_login_error() from None
        return self.cleaned_data
