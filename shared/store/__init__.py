"""The Azure Table Storage adapter: the only code that speaks Table Storage, and it knows no capability.

rows.py (pure, no azure import): ``RowKind``, which each stored type declares beside itself, and
the filter conditions; codec.py: dataclass <-> entity; state.py: the generic store (get, query,
atomic commits, ETag-conditional saves, one place turning Azure errors into StoreError);
errors.py (no azure import): StoreError and its kinds, for callers that only catch them;
changes.py: idempotency records and the configure lease. Kept import-light: importing this
package loads nothing.
"""
