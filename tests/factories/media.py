"""Images for uploads and image rows."""

from __future__ import annotations

import io

from PIL import Image


def png() -> bytes:
    """A 4x3 red PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = png()
