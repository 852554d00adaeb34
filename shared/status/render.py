"""The status page as HTML, and the Content-Security-Policy it is sent with.

Jinja2 (autoescape on, undefined names an error) fills templates/status.html from the view-model
(shared/status/view.py). It is imported on the first page asked for, never by the timers: about
45 ms, paid once per process. The one inline stylesheet is allowed by its SHA-256 hash, so the
policy can forbid everything else: no script, no font, no request anywhere (``default-src 'none'``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.status.view import StatusPage

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def stylesheet() -> str:
    """The page's stylesheet, inlined in its one <style> element."""
    return (TEMPLATES / "status.css").read_text(encoding="utf-8")


def content_security_policy() -> str:
    """The page's policy: nothing but its own inline stylesheet (by hash) and data: images."""
    digest = base64.b64encode(hashlib.sha256(stylesheet().encode()).digest()).decode()
    return (
        "default-src 'none'; "
        f"style-src 'sha256-{digest}'; "
        "img-src data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def render(page: StatusPage) -> str:
    """The HTML document of ``page`` (UTF-8 text)."""
    template = _environment().get_template("status.html")
    return str(template.render(page=page, css=stylesheet()))
