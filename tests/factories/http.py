"""A JSON call to a server the test started in another process (urllib: no test client)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


def json_call(base: str, method: str, path: str, body=None, token: str | None = None):
    """(status, JSON body) of `method path` on the server at `base` (http://127.0.0.1:port)."""
    request = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())
