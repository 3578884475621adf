"""Whether the company already keeps documents with money on them (sales, purchase orders,
expenses). The apps that own such documents register a check in their `AppConfig.ready()`, so
this layer asks without importing the layers above it."""

from __future__ import annotations

from collections.abc import Callable

_CHECKS: list[Callable[[], bool]] = []


def money_documents_register(check: Callable[[], bool]) -> None:
    """`check()` answers, in the current schema, whether the app holds any money document."""
    _CHECKS.append(check)


def money_documents_exist() -> bool:
    return any(check() for check in _CHECKS)
