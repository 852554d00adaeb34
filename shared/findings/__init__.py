"""Findings: what MTD Guard detected, their lifecycle, metadata per kind, and listing."""
