from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_UNDERSCORE = re.compile(r"_([a-z0-9])")


class MoneySafeJSONEncoder(JSONEncoder):
    """Decimals leave as strings ("1.20"), never floats, wherever they come from."""

    def default(self, obj):
        if isinstance(obj, Decimal):
            return str(obj)
        return super().default(obj)


@lru_cache(maxsize=4096)
def camel_key(key: str) -> str:
    """`sell_price` → `sellPrice` (memoised: the same few hundred keys on every response)."""
    if "_" not in key or key.startswith("_"):
        return key
    return _UNDERSCORE.sub(lambda match: match.group(1).upper(), key)


class CamelCaseList(list):
    """A list whose items already have their wire (camelCase) keys: `camelize` leaves it as it is.
    Hot list endpoints build their rows this way rather than have every key walked again."""


# Leaves of a response: returned as they are, without a recursive call (most values are these).
_SCALARS = frozenset({str, int, float, bool, type(None), Decimal})


def camelize(data):
    if type(data) is CamelCaseList:
        return data
    if isinstance(data, dict):
        return {
            (camel_key(key) if isinstance(key, str) else key): (
                value if type(value) in _SCALARS else camelize(value)
            )
            for key, value in data.items()
        }
    if isinstance(data, (list, tuple)):
        return [item if type(item) in _SCALARS else camelize(item) for item in data]
    return data


class EnvelopeJSONRenderer(JSONRenderer):
    """camelCase JSON in the success envelope `{"success": true, "data": …}`.

    Responses that already carry an envelope (paginated lists, errors) mark themselves with
    `response.enveloped = True` and are rendered as they are.
    """

    encoder_class = MoneySafeJSONEncoder

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if (
            response is not None
            and not getattr(response, "enveloped", False)
            and response.status_code < 300
            and response.status_code != 204
        ):
            data = {"success": True, "data": data}
        return super().render(camelize(data), accepted_media_type, renderer_context)
