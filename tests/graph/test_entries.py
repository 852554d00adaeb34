"""Bounding Graph's strings before they reach a row: any text Graph sends, surrogates included."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from shared.graph.entries import bounded

# Any code point, lone surrogates included (json.loads makes them from '\ud800' escapes).
ANY_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=300)


def _by_the_rule(text: str, limit: int) -> str:
    """The rule, spelled character by character: each surrogate becomes U+FFFD; past ``limit``,
    cut with the full length and a digest of the whole."""
    clean = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    if len(clean) <= limit:
        return clean
    return f"{clean[:limit]}…[{len(clean)} chars, sha256 {hashlib.sha256(clean.encode()).hexdigest()[:12]}]"


@given(ANY_TEXT, st.integers(min_value=1, max_value=400))
def test_bounded_text_is_storable_and_follows_the_rule(text: str, limit: int) -> None:
    got = bounded(text, limit)
    assert got == _by_the_rule(text, limit)
    got.encode("utf-8")  # storable: no code point left that UTF-8 cannot carry
