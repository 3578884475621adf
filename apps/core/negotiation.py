"""Content negotiation with a fast path: every API view renders JSON only, and almost every
client sends no Accept header, `*/*` or `application/json` — then the one renderer is the
answer without parsing the header (DRF's parsing was ~5 % of a barcode scan). Anything else
goes through DRF's negotiation as before (406 for an unacceptable type)."""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation

PLAIN_ACCEPTS = frozenset({"", "*/*", "application/json"})


class JSONFirstNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if (
            len(renderers) == 1
            and format_suffix is None
            and request.META.get("HTTP_ACCEPT", "") in PLAIN_ACCEPTS
            and not request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        ):
            renderer = renderers[0]
            return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)


class OwnFormatNegotiation(DefaultContentNegotiation):
    """For views whose `?format=` is their own parameter (a receipt as HTML, a report as CSV):
    DRF's `format` override is not applied, the JSON renderer always answers (errors leave as the
    envelope) and the view returns its documents itself."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type
