"""Alerting: alerts recorded with their cause, routed, and delivered to every channel."""
