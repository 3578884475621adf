"""Content-Security-Policy for the two HTML surfaces a browser renders: the platform console
(Django admin, under /admin/) and the receipt pages (apps.receipts: the preview with its print
button and `?format=html`). The JSON API renders no HTML; it gets `X-Frame-Options: DENY` and
`X-Content-Type-Options: nosniff` from Django's own middleware, placed before the tenant routing so
that every response carries them, early refusals included (settings.MIDDLEWARE).

No inline script anywhere: the admin loads its scripts from 'self' (Django's admin has no inline
script), and the receipt's one script is allowed by its SHA-256. The receipt's inline styles (they
depend on the paper size) are allowed by a per-response nonce; the admin's by 'unsafe-inline' (see
ADMIN_POLICY).
"""

from __future__ import annotations

import base64
import hashlib
import secrets

CSP_HEADER = "Content-Security-Policy"
ADMIN_PREFIX = "/admin/"  # mipos/urls.py


def csp_hash(source: str) -> str:
    """The CSP source expression allowing exactly this inline script or style text."""
    digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def csp_nonce() -> str:
    return secrets.token_urlsafe(18)


def csp_policy(directives: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


# The console's policy. Scripts: files from 'self' only (Django's admin has no inline script or
# handler). Styles: 'self' and inline, because the admin as rendered here carries inline styles
# made by template logic (django-tenants' app list: a `<style>` built by template tags and
# `style=` attributes), which no fixed hash can allow; every text in those pages is autoescaped,
# so an inline style is no way in for a script.
ADMIN_POLICY = csp_policy(
    {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
)


class AdminContentSecurityPolicyMiddleware:
    """The console's policy on every response under /admin/ (one prefix test per request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(ADMIN_PREFIX) and CSP_HEADER not in response:
            response[CSP_HEADER] = ADMIN_POLICY
        return response
