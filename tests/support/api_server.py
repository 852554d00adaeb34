"""The API tests' HTTP front for the Functions app: the one local adapter, scripts/localhost.py
(also behind ``make serve`` and ``make demo``), re-exported under the names the tests use."""

from __future__ import annotations

from scripts.localhost import FUNCTION_KEY, ApiServer, Route, routes

__all__ = ["FUNCTION_KEY", "ApiServer", "Route", "routes"]
