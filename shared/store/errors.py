"""What a Table Storage failure is called outside the adapter: StoreError and its two kinds.

Standard library only, so the HTTP toolkit (functions/http/endpoint.py) can map them to
problem+json at import time without loading azure-core or azure-data-tables: those load with
state.py, when a trigger first touches the store. state.py re-exports them (the one place that
turns Azure errors into these is ``state.storage_errors``)."""

from __future__ import annotations


class StoreError(Exception):
    """State storage failed; the message is safe to show (no keys, no connection strings)."""


class StoreConflict(StoreError):
    """Another run (or person) wrote first: an inserted row exists, or a row changed since read."""


class StoreRejected(StoreError):
    """Storage answered but refused a row of the batch (400: a value or row beyond its limits):
    the data's fault, not an outage; writing the batch without that row can succeed."""
