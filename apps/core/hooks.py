"""Callables that core's mechanisms (and the apps low in the layers) need from an app above them.

The layers (pyproject.toml, checked by `lint-imports`) forbid importing upwards; where a lower
layer must still call a higher one — core writing the audit row of a row it inserted, the operator
middleware loading the signed-in user — the lower module declares a `Hook` and the app that
provides it registers its function in its `AppConfig.ready()`. A hook nobody registered fails
loudly (ImproperlyConfigured), never silently."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured


class Hook:
    def __init__(self, name: str, *, provider: str) -> None:
        self.name = name
        self.provider = provider  # the app whose AppConfig.ready() registers it
        self._function: Callable[..., Any] | None = None

    def register(self, function: Callable[..., Any]) -> None:
        self._function = function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._function is None:
            raise ImproperlyConfigured(
                f"{self.name}: not registered ({self.provider}'s AppConfig.ready() registers it)"
            )
        return self._function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Hook {self.name} from {self.provider}>"
