"""Ticketing systems: their webhook payloads mapped to MTD Guard actions."""
