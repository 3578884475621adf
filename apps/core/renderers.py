from __future__ import annotations

from decimal import Decimal

from djangorestframework_camel_case.render import CamelCaseJSONRenderer
from rest_framework.utils.encoders import JSONEncoder


class MoneySafeJSONEncoder(JSONEncoder):
    """Decimals leave as strings ("1.20"), never floats, wherever they come from."""

    def default(self, obj):
        if isinstance(obj, Decimal):
            return str(obj)
        return super().default(obj)


class EnvelopeJSONRenderer(CamelCaseJSONRenderer):
    """camelCase JSON in the success envelope `{"success": true, "data": …}`.

    Responses that already carry an envelope (paginated lists, errors) mark themselves with
    `response.enveloped = True` and are rendered as they are.
    """

    encoder_class = MoneySafeJSONEncoder

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and not getattr(response, "enveloped", False):
            if response.status_code == 204 or response.status_code >= 300:
                return super().render(data, accepted_media_type, renderer_context)
            data = {"success": True, "data": data}
        return super().render(data, accepted_media_type, renderer_context)
