"""Prometheus metrics of one app (its own registry: two apps in one process never clash).

Every label takes its value from a bounded set, so no client can create new time series: the
HTTP method is one of :data:`KNOWN_METHODS` or ``"other"``, the route is a route template or
``"unmatched"``, the status a three-digit code, the fallback reason a category.
"""

from __future__ import annotations

import time
from typing import Any

from cryptoforecast.serving.schemas import Forecast, fallback_category

__all__ = ["KNOWN_METHODS", "Metrics", "MetricsMiddleware", "method_label"]

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: object) -> str:
    """The ``method`` label: a standard HTTP method, else ``"other"``."""
    return method if isinstance(method, str) and method in KNOWN_METHODS else "other"


def _status_label(code: object) -> str:
    return str(code) if isinstance(code, int) and 100 <= code <= 599 else "other"


class Metrics:
    """Prometheus collectors on their own registry."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "cryptoforecast_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cryptoforecast_http_request_duration_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.cache_hits = Counter(
            "cryptoforecast_cache_hits_total",
            "forecasts served from the cache",
            registry=self.registry,
        )
        self.cache_misses = Counter(
            "cryptoforecast_cache_misses_total", "forecasts computed", registry=self.registry
        )
        self.forecasts = Counter(
            "cryptoforecast_forecasts_total",
            "forecasts served, by source",
            ["source"],
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "cryptoforecast_fallbacks_total",
            "computed forecasts answered by the technical-analysis fallback",
            ["reason"],
            registry=self.registry,
        )
        self.cache_size = Gauge(
            "cryptoforecast_cache_entries", "live forecast cache entries", registry=self.registry
        )

    def observe_forecast(self, forecast: Forecast) -> None:
        self.forecasts.labels(source=forecast.source).inc()
        if forecast.cached:
            self.cache_hits.inc()
            return
        self.cache_misses.inc()
        if forecast.source != "model":
            self.fallbacks.labels(reason=fallback_category(forecast.fallback_reason)).inc()

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        from prometheus_client import generate_latest

        return bytes(generate_latest(self.registry))


class MetricsMiddleware:
    """Pure ASGI middleware: count requests and time them by route template."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(
                method_label(scope.get("method")), path, _status_label(status["code"])
            ).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - start)
