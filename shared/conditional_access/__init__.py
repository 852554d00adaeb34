"""Conditional Access drift: classic MTD policies, modern policies and platform coverage."""
