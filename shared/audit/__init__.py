"""The audit trail: one entry per write MTD Guard made, refused or tried."""
