"""A read-only web dashboard served by the prediction service, entirely offline.

``/`` shows each tracked coin's last closes with today's forecasts as a fan, ``/accuracy`` the
live ledger beside naive, ``/models`` the production models, their gate decisions and stage
history. Include it with ``app.include_router(dashboard_router())``.
"""

from __future__ import annotations

from cryptoforecast.serving.dashboard.router import dashboard_router

__all__ = ["dashboard_router"]
