"""The Azure Table Storage adapter: the only code that speaks Table Storage (state.py: the state
table and history; changes.py: the audit trail, idempotency records and the configure lease)."""
