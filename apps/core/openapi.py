"""OpenAPI: every documented response is wrapped in the success envelope, and every operation
documents the error envelope for the status codes the contract uses."""

from __future__ import annotations

ERROR_STATUSES = {
    "400": "Validation error",
    "401": "Missing, invalid or revoked token",
    "403": "Role lacks the permission, or the company is suspended",
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
    },
}


def _is_enveloped(schema: dict, components: dict) -> bool:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = components.get(ref.rsplit("/", 1)[-1], {})
    return "success" in schema.get("properties", {})


def envelope_postprocessing_hook(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
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
