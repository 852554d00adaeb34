"""The status page: one HTML page of stored state (jobs, connectors and their history, findings, alerts)."""
