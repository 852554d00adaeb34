"""Per-entry isolation of a Graph collection: strings bounded, duplicates collapsed. Pure.

Whatever one entry of a collection carries must not cost the other entries their judgement:
an id or text of any length is bounded here, before it reaches a row (Table Storage takes at
most 32,768 characters per string and 1 MiB per row), with a visible marker that keeps bounded
values distinct; entries listed twice (Graph repeats items across pages) or whose ids differ only
in letter case (Graph ids are GUIDs, compared case-insensitively) are judged once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

MAX_ID = 200  # ids longer than any GUID-shaped id Graph issues
MAX_TEXT = 1024  # display names, states, raw timestamps quoted in reasons
MAX_SHOWN = 120  # an odd entry quoted in a problem
# Every surrogate code point: on its own in a str none can be encoded (JSON's escaped pairs decode
# to one character before they get here). One C-speed pass, not a generator per character.
_SURROGATE = re.compile("[\ud800-\udfff]")


def bounded(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` safe to store: lone surrogates (not encodable) become U+FFFD, and beyond ``limit``
    characters it is cut with a marker naming the full length and a digest of the whole, e.g.
    'abc…[5000 chars, sha256 1a2b3c4d5e6f]', so two long values stay distinct."""
    clean = _SURROGATE.sub("\ufffd", text)
    if len(clean) <= limit:
        return clean
    digest = hashlib.sha256(clean.encode()).hexdigest()[:12]
    return f"{clean[:limit]}…[{len(clean)} chars, sha256 {digest}]"


def shown(entry: Any) -> str:
    """An odd entry quoted in a problem: compact JSON, bounded to ``MAX_SHOWN`` characters."""
    try:
        text = json.dumps(entry, separators=(",", ":"), ensure_ascii=False, default=repr)
    except ValueError:  # a circular structure cannot come from JSON, but never fail on it
        text = repr(entry)
    return bounded(text, MAX_SHOWN)


def collapse(items: list[T], key: Callable[[T], str], what: str) -> tuple[list[T], list[str]]:
    """The first entry per id (compared case-insensitively), in order; a problem per id listed
    more than once, e.g. 'connector X listed 2 times; the first entry was judged'."""
    first: dict[str, T] = {}
    seen: dict[str, list[str]] = {}
    for item in items:
        folded = key(item).lower()
        first.setdefault(folded, item)
        seen.setdefault(folded, []).append(key(item))
    problems = []
    for ids in seen.values():
        if len(ids) < 2:
            continue
        spellings = sorted(set(ids))
        cases = f" (ids differing only in letter case: {', '.join(spellings)})" if len(spellings) > 1 else ""
        problems.append(f"{what} {ids[0]} listed {len(ids)} times{cases}; the first entry was judged")
    return list(first.values()), problems
