"""OpenAPI: every documented response is wrapped in the success envelope, every operation
documents the error envelope for the status codes the contract uses, and every `{variable}` of a
path template is declared as a path parameter of each of its operations."""

from __future__ import annotations

import re

ERROR_STATUSES = {
    "400": "Validation error",
    "401": "Missing, invalid or revoked token",
    "403": "Role lacks the permission, the company is suspended, or an operator's write needs "
    "a fresh login (REAUTH_REQUIRED)",
    "404": "Not found, or another tenant's",
    "405": "Method not allowed",
    "409": "Conflict (duplicate)",
    "415": "Unsupported media type",
    "422": "Business rule violated",
    "429": "Rate limited (see Retry-After)",
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["success", "error"],
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string", "nullable": True},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
        },
    },
}

PAGE_META_SCHEMA = {
    "type": "object",
    "required": ["page", "limit", "total", "totalPages"],
    "properties": {
        "page": {"type": "integer"},
        "limit": {"type": "integer"},
        "total": {"type": "integer"},
        "totalPages": {"type": "integer"},
        "totalCapped": {
            "type": "boolean",
            "description": "Only on ledgers that stop counting: `total` is a lower bound",
        },
    },
}


def _is_enveloped(schema: dict, components: dict) -> bool:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = components.get(ref.rsplit("/", 1)[-1], {})
    return "success" in schema.get("properties", {})


_TEMPLATE_VARIABLE = re.compile(r"\{(\w+)\}")
# How a router spells a UUID lookup (`lookup_value_regex`), as drf-spectacular anchors it.
_UUID_PATTERNS = {"^[0-9a-fA-F-]{36}$", "^[0-9a-f-]{36}$"}
_LITERAL_CHOICES = re.compile(r"[\w-]+(?:\|[\w-]+)+")


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def _path_parameter_schema(schema: dict) -> dict:
    pattern = schema.get("pattern")
    if pattern in _UUID_PATTERNS:
        return {"type": "string", "format": "uuid"}
    if pattern and pattern.startswith("^") and pattern.endswith("$") and "|" in pattern:
        # drf-spectacular anchors a URL regex as `^a|b$`, which anchors only the first and last
        # alternatives. A choice of literal words (`draft|archived|…`) is an enum; anything
        # else is anchored as a whole, `^(?:a|b)$`, as the route matches it.
        inner = pattern[1:-1]
        if _LITERAL_CHOICES.fullmatch(inner):
            return {"type": "string", "enum": inner.split("|")}
        return {**schema, "pattern": f"^(?:{inner})$"}
    return schema


def declare_path_parameters(result: dict) -> dict:
    """The camelCase hook renames path parameters (`product_id` → `productId`) but not the
    `{product_id}` of the path template, which leaves the template's variables undeclared: a
    client generated from the document cannot fill them. Template variables are renamed to the
    parameters' camelCase names (as the contract spells `:variantId`), every one is declared
    (required) on every operation of the path, router UUID patterns become `format: uuid`
    and a regex choice of words an `enum`."""
    paths = {}
    for template, path_item in result.get("paths", {}).items():
        renamed = _TEMPLATE_VARIABLE.sub(lambda m: "{" + _camel(m.group(1)) + "}", template)
        variables = _TEMPLATE_VARIABLE.findall(renamed)
        for key, operation in path_item.items():
            if not isinstance(operation, dict) or key == "parameters":
                continue
            parameters = operation.setdefault("parameters", [])
            declared = {}
            for parameter in parameters:
                if parameter.get("in") == "path":
                    parameter["name"] = _camel(parameter["name"])
                    declared[parameter["name"]] = parameter
            for name in variables:
                parameter = declared.get(name)
                if parameter is None:
                    parameter = {"in": "path", "name": name, "schema": {"type": "string"}}
                    parameters.append(parameter)
                parameter["required"] = True
                parameter["schema"] = _path_parameter_schema(parameter.get("schema", {}))
            for name in set(declared) - set(variables):  # declared, but not in the path
                parameters.remove(declared[name])
        paths[renamed] = path_item
    result["paths"] = paths
    return result


def _strict_request_components(generator) -> set[str]:
    """The request components of the input serializers that refuse unknown keys
    (`core.serializers.UnknownFieldsRefused`) and of the serializers nested in them."""
    from rest_framework import serializers

    from apps.core.serializers import UnknownFieldsRefused

    def nested(serializer) -> set[type]:
        found = {type(serializer)}
        for field in serializer.fields.values():
            child = getattr(field, "child", field)
            if isinstance(child, serializers.Serializer) and not field.read_only:
                found |= nested(child)
        return found

    registry = getattr(generator, "registry", None)
    components = getattr(registry, "_components", {}).values()
    strict: set[type] = set()
    for component in components:
        obj = component.object
        if isinstance(obj, type) and issubclass(obj, UnknownFieldsRefused):
            strict |= nested(obj())
        elif isinstance(obj, UnknownFieldsRefused):
            strict |= nested(obj)
    return {
        component.name
        for component in components
        if component.name.endswith("Request")
        and (component.object if isinstance(component.object, type) else type(component.object))
        in strict
    }


def envelope_postprocessing_hook(result, generator, request, public):
    """Runs after drf-spectacular's camelCase hook (see SPECTACULAR_SETTINGS)."""
    declare_path_parameters(result)
    components = result.setdefault("components", {}).setdefault("schemas", {})
    # money writes refuse unknown keys (400): their request objects say so
    for name in _strict_request_components(generator):
        if name in components:
            components[name]["additionalProperties"] = False
    components["ErrorResponse"] = ERROR_SCHEMA
    components["PageMeta"] = PAGE_META_SCHEMA
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if not code.startswith("2"):
                    continue
                content = response.get("content", {}).get("application/json")
                if content is None or _is_enveloped(content.get("schema", {}), components):
                    continue
                content["schema"] = {
                    "type": "object",
                    "required": ["success", "data"],
                    "properties": {
                        "success": {"type": "boolean"},
                        "data": content.get("schema", {}),
                    },
                }
            for code, description in ERROR_STATUSES.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": error_ref}},
                    },
                )
    return result


def _idempotency_key_parameter():
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    return OpenApiParameter(
        "Idempotency-Key",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="Retry-safe writes: the same key and request replay the first response "
        "(`Idempotent-Replayed: true`); the same key with another request is 422; while the "
        "first is still running, 409. Kept 48 h.",
    )


IDEMPOTENCY_KEY = _idempotency_key_parameter()
