"""JSON request parsers that refuse a body nested deeper than `MAX_JSON_DEPTH` before anything
parses it. Python's json decoder and the camel-case key conversion both recurse once per level: a
few hundred levels of `[[[…]]]` used to end in RecursionError (a 500 on every JSON endpoint, login
included). The depth is measured without recursion, on the raw text."""

from __future__ import annotations

import io
import re

from django.conf import settings
from djangorestframework_camel_case.parser import CamelCaseJSONParser as _CamelCaseJSONParser
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as _JSONParser

from apps.core.errors import ValidationFailed

# No request body of this API nests anywhere near this deep.
MAX_JSON_DEPTH = 32

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # a JSON string, escapes included
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_AS_PARENS = str.maketrans("[{]}", "(())")


def json_depth_check(text: str, *, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise ValidationFailed when `text` nests arrays/objects more than `limit` deep.

    Strings are removed first (brackets inside them don't count), then only the brackets are
    kept; each pass removes every innermost `()` pair, so the number of passes is the depth.
    At most `limit` passes, each a C-speed string operation. Brackets that never pair up cannot
    be JSON: refused as a parse error without handing them to the recursive decoder."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).translate(_AS_PARENS)
    depth = 0
    while brackets:
        if depth == limit:
            message = f"The JSON body is nested more than {limit} levels deep."
            raise ValidationFailed(message, details=[{"field": None, "message": message}])
        shorter = brackets.replace("()", "")
        if len(shorter) == len(brackets):
            raise ParseError("JSON parse error - unbalanced brackets.")
        brackets = shorter
        depth += 1


class _DepthLimited:
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            text = None  # the parser itself answers with its parse error
        if text is not None:
            json_depth_check(text)
        return super().parse(io.BytesIO(raw), media_type, parser_context)


class CamelCaseJSONParser(_DepthLimited, _CamelCaseJSONParser):
    """The default parser: camelCase keys become snake_case."""


class JSONParser(_DepthLimited, _JSONParser):
    """Keys kept exactly as sent (the bulk import's column names)."""
