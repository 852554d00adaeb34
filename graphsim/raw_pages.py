"""Raw pages: a collection answered with pages written by the test, exactly as given.

Graph has been seen to repeat items across pages, to send a ``@odata.nextLink`` that repeats
one already followed (forever), and to list entries no schema would allow. Scenario entities
are validated, so those answers cannot be built from a scenario; a ``RawPages`` serves them:

    sim.serve_raw_pages(RawPages("/deviceManagement/mobileThreatDefenseConnectors",
                                 pages=[[{...}, {...}], [{...}]], links=[1, 0]))

Page ``i`` answers ``{"@odata.nextLink"?, "value": pages[i]}``; its nextLink leads to page
``links[i]`` (None: the last page). ``links`` defaults to 0 -> 1 -> ... -> last. ``links=[1, 0]``
cycles between two pages; ``links=[1, 1]`` makes page 1 link to itself (the same URL, repeated).
Entries are served untouched (no defaults, no version filtering): any JSON value, any id.
JSON form (``PUT /_sim/raw-pages``): ``{"path": ..., "pages": [[...], ...], "links": [...]}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from graphsim.odata import GraphError, Reply, json_reply

_PAGE_PREFIX = "raw-page-"  # a $skiptoken of this simulator, not a secret


@dataclass(frozen=True)
class RawPages:
    """Pages of one collection path (no version prefix), served as written; see the module doc."""

    path: str
    pages: list[list[Any]]
    links: list[int | None] | None = None

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"path must start with '/' (no version prefix), not {self.path!r}")
        if not self.pages:
            raise ValueError("at least one page is needed")
        links = self.next_links()
        if len(links) != len(self.pages):
            raise ValueError(f"links needs one entry per page ({len(self.pages)}), not {len(links)}")
        if any(n is not None and not 0 <= n < len(self.pages) for n in links):
            raise ValueError(f"every link must name a page 0-{len(self.pages) - 1} or be null")

    def next_links(self) -> list[int | None]:
        """Where each page's nextLink leads (None: no nextLink)."""
        if self.links is not None:
            return list(self.links)
        last = len(self.pages) - 1
        return [i + 1 if i < last else None for i in range(len(self.pages))]

    def matches(self, method: str, path: str) -> bool:
        """A GET of the collection itself (case-insensitive, as Graph paths are)."""
        return method == "GET" and path.rstrip("/").lower() == self.path.rstrip("/").lower()

    def reply(self, origin: str, version: str, query: dict[str, list[str]]) -> Reply:
        """The page the request's ``$skiptoken`` names (page 0 without one)."""
        tokens = query.get("$skiptoken") or []
        token = tokens[0] if tokens else None
        index = 0
        if token is not None:
            number = token.removeprefix(_PAGE_PREFIX)
            if not token.startswith(_PAGE_PREFIX) or not number.isdigit() or int(number) >= len(self.pages):
                raise GraphError(400, f"The $skiptoken '{token}' is not valid.")
            index = int(number)
        payload: dict[str, Any] = {}
        target = self.next_links()[index]
        if target is not None:
            link = urlencode({"$skiptoken": f"{_PAGE_PREFIX}{target}"})
            payload["@odata.nextLink"] = f"{origin}/{version}{self.path}?{link}"
        payload["value"] = self.pages[index]
        return json_reply(200, payload)

    @classmethod
    def from_json(cls, data: Any) -> RawPages:
        """From ``{"path", "pages", "links"?}``; ValueError naming what is wrong."""
        if not isinstance(data, dict) or not isinstance(data.get("path"), str):
            raise ValueError("raw pages need a JSON object with a 'path'")
        pages = data.get("pages")
        if not isinstance(pages, list) or not all(isinstance(p, list) for p in pages):
            raise ValueError("'pages' must be a list of pages, each a list of entries")
        links = data.get("links")
        if links is not None and not (
            isinstance(links, list)
            and all(n is None or (isinstance(n, int) and not isinstance(n, bool)) for n in links)
        ):
            raise ValueError("'links' must be a list of page numbers or nulls")
        return cls(data["path"], pages, links)
