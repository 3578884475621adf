from __future__ import annotations

from apps.sales.tests.conftest import shelf  # noqa: F401  (shared fixture: stocked products)
