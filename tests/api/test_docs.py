"""The README is part of the product: its settings table must match the code's registry."""

from __future__ import annotations

from scripts import settings_doc


def test_readme_settings_table_matches_the_registry() -> None:
    assert settings_doc.current() == settings_doc.block(), (
        "README.md's settings table differs from shared/settings.py: "
        "run `.venv/bin/python -m scripts.settings_doc --write` and commit README.md"
    )
