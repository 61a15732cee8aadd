"""What every answer carries on the wire, whatever route built it (:class:`ProtocolMiddleware`).

- ``HEAD`` is answered like ``GET`` without a body: the same status and headers (the
  ``Content-Length`` of the body a ``GET`` would send). A path without ``GET`` answers 405.
  Everything inside this middleware (routing, the request metrics) sees the ``GET`` it runs.
- Every response has ``X-Content-Type-Options: nosniff`` and a Content-Security-Policy. A route
  that serves a page sets the policy the page needs (the dashboard, the reports, ``/docs``); every
  other answer (JSON, metrics, style sheets, scripts) gets :data:`JSON_CSP`: nothing may load.
- An unexpected error is answered here, with those headers, as a 500 that names no detail (the
  exception still reaches the server's log).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["JSON_CSP", "ProtocolMiddleware", "SECURITY_HEADERS"]

JSON_CSP = "default-src 'none'; frame-ancestors 'none'"
"""The policy of every answer that is not a page: nothing may load, nothing may frame it."""

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", JSON_CSP.encode()),
)
"""Every response gets each header it does not set itself."""

_INTERNAL_ERROR = json.dumps({"detail": "internal server error; see the service log"}).encode()


def _with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    return [*headers, *((n, v) for n, v in SECURITY_HEADERS if n not in present)]


class ProtocolMiddleware:
    """Pure ASGI middleware: HEAD as GET without a body, the security headers, a bare 500."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        started = False

        async def send_wrapper(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": _with_security_headers(list(message["headers"]))}
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        # the server keeps its own scope (still HEAD), so it frames the answer as one to a HEAD
        inner = {**scope, "method": "GET"} if head else scope
        try:
            await self.app(inner, receive, send_wrapper)
        except Exception:
            if not started:
                await send_wrapper(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(_INTERNAL_ERROR)).encode()),
                        ],
                    }
                )
                await send_wrapper({"type": "http.response.body", "body": _INTERNAL_ERROR})
            raise
