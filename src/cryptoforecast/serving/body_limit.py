"""The request body cap: :class:`BodyLimit`, a pure ASGI middleware that lets the app read at most
:data:`MAX_BODY_BYTES` of a body and answers 413 past it, without reading the rest.

The cap applies when the app reads the body, not when the request arrives: a route that answers
before reading (an admin route without its token answers 401) reads none of it. A declared
``Content-Length`` over the cap is refused before the first byte is read; a body without one
(chunked) is counted as it streams and cut off at the first chunk past the cap.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

__all__ = ["MAX_BODY_BYTES", "BodyLimit", "BodyTooLarge"]

#: the largest request body the service reads: admin bodies are small JSON objects
MAX_BODY_BYTES = 16 * 1024


class BodyTooLarge(HTTPException):
    """Raised to the app by ``receive`` when the body passes the cap: a 413 (FastAPI's router
    passes an ``HTTPException`` raised while reading a body on to the exception handlers)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=413,
            detail=f"request body larger than {limit} bytes; send a smaller JSON object",
        )


class BodyLimit:
    """Pure ASGI middleware: the app receives at most ``max_bytes`` of a request body."""

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        received = 0
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            if declared is not None and declared > self.max_bytes:
                raise BodyTooLarge(self.max_bytes)  # before reading a byte of it
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracked_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except BodyTooLarge as exc:  # read outside a route: answer here, if nothing was sent
            if started:
                raise
            response = JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
            await response(scope, receive, send)


def _content_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before the app sees it
    return None
