"""Heartbeat monitoring: is Intune still listening to each MTD partner?"""
