"""The HTTP endpoints, one module per group, mounted by :func:`cryptoforecast.serving.app.create_app`.

``forecasts`` (``/v1/forecast``), ``models`` (the registry listing and the admin endpoints),
``ledger`` (``/v1/accuracy``), ``health`` (``/healthz``, ``/metrics``); ``deps`` holds what they
share (the app's :class:`~cryptoforecast.serving.routes.deps.Service`, id resolution, the admin
check), ``responses`` every error status each operation can answer. These modules import FastAPI, so only ``create_app`` imports them; this package
module itself does not (it holds the constants the app re-exports).
"""

__all__ = ["ADMIN_TOKEN_ENV", "MAX_BATCH"]

#: the environment variable holding the admin bearer token
ADMIN_TOKEN_ENV = "CRYPTOFORECAST_ADMIN_TOKEN"
#: at most this many ids in one ``GET /v1/forecast?ids=...``
MAX_BATCH = 20
