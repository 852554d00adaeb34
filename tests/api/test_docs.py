"""The README and docs/ are part of the product: they must agree with the code and lead somewhere.

The settings table matches the registry; every relative link of the README and of docs/ reaches a
file (and a heading, when it names one); the README stays short and reaches every docs page; the
route table of docs/http-api.md lists every route the app registers with the role it really checks;
`make help` names every target and `make clean` leaves no Azurite data behind.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from scripts import settings_doc
from tests.conftest import Host

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_LINES = 150

_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def prose(path: Path) -> list[str]:
    """The page's lines outside fenced code blocks (a `# comment` in a shell block is no heading)."""
    lines, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading)  # code and emphasis markers
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link keeps its text
    kept = "".join(c for c in text.lower() if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for line in prose(path):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match[2])
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def relative_links(path: Path) -> list[str]:
    targets = []
    for line in prose(path):
        for target in _LINK.findall(line):
            if not re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ... are not ours
                targets.append(target)
    return targets


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists():
            problems.append(f"{path.relative_to(root)}: {target} (no such file)")
            continue
        if anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            problems.append(f"{path.relative_to(root)}: {target} (no such heading)")
    return problems


def test_docs_settings_table_matches_the_registry() -> None:
    assert settings_doc.current() == settings_doc.block(), (
        "docs/settings.md's settings table differs from shared/settings.py: "
        "run `.venv/bin/python -m scripts.settings_doc --write` and commit docs/settings.md"
    )


def test_the_readme_fits_on_a_few_screens() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < README_MAX_LINES, f"README.md has {len(lines)} lines; move details to docs/"


def test_every_relative_link_of_the_readme_and_docs_resolves() -> None:
    problems = [problem for page in pages() for problem in broken_links(page)]
    assert not problems, "\n".join(problems)


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in relative_links(README)}
    expected = {page.resolve() for page in DOCS.glob("*.md")}
    assert expected <= linked, f"not linked from README.md: {sorted(str(p) for p in expected - linked)}"


def test_link_checker_catches_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other page\n\n## Change a setting\n", encoding="utf-8")
    page.write_text(
        "[ok](other.md#change-a-setting) [gone](nowhere.md) [typo](other.md#change-a-settings)\n"
        "```sh\n[in code](ignored.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page, root=tmp_path) == [
        "page.md: nowhere.md (no such file)",
        "page.md: other.md#change-a-settings (no such heading)",
    ]


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        (
            "Configure a connector: `PUT /api/connectors/{partner}`",
            "configure-a-connector-put-apiconnectorspartner",
        ),
        (
            "Matching audit events (configurable, because it is unconfirmed)",
            "matching-audit-events-configurable-because-it-is-unconfirmed",
        ),
        ("Granted by `azd up`", "granted-by-azd-up"),
        ("The audit log's retention", "the-audit-logs-retention"),
    ],
)
def test_anchors_follow_github(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_repository_paths_named_in_docs_exist() -> None:
    """`shared/...`, `infra/...` and the like in backticks: the layout moves, the docs must follow."""
    named = re.compile(r"`((?:shared|functions|infra|scripts|tests|graphsim|scenarios)/[\w./-]*)`")
    missing = []
    for page in pages():
        for line in prose(page):
            for path in named.findall(line):
                if "<" not in path and not (ROOT / path).exists():
                    missing.append(f"{page.relative_to(ROOT)}: {path}")
    assert not missing, "\n".join(missing)


# -- the route table of docs/http-api.md -----------------------------------------------------------

_ROUTE_ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) /api/([^`]+)` \| ([^|]+) \|", re.M)
ANONYMOUS = "none (anonymous, no key)"


def documented_routes() -> dict[tuple[str, str], str]:
    text = (DOCS / "http-api.md").read_text(encoding="utf-8")
    rows = [(m[1], m[2], m[3].strip().strip("`")) for m in _ROUTE_ROW.finditer(text)]
    table = {(method, route): role for method, route, role in rows}
    assert len(table) == len(rows), "a route is listed twice"
    return table


def registered_routes(functions: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(method, route) -> the function's name, for every HTTP function the host would index."""
    routes = {}
    for name, function in functions.items():
        trigger = function.get_trigger()
        for method in getattr(trigger, "methods", None) or ():
            routes[(str(method.value), str(trigger.route))] = name
    return routes


def principal_without_roles() -> dict[str, str]:
    """An Easy Auth principal that holds a role of some other app, none of MTD Guard's."""
    claims = [
        {"typ": "roles", "val": "Some.OtherApp.Role"},
        {"typ": "preferred_username", "val": "x@contoso.com"},
    ]
    principal = {"auth_typ": "aad", "claims": claims, "role_typ": "roles"}
    encoded = base64.b64encode(json.dumps(principal).encode())
    return {"X-MS-CLIENT-PRINCIPAL": encoded.decode(), "X-MS-CLIENT-PRINCIPAL-ID": "2222"}


def test_the_route_table_lists_every_registered_route(functions: dict[str, Any]) -> None:
    assert set(documented_routes()) == set(registered_routes(functions))


def test_the_route_table_gives_the_role_each_route_checks(
    host: Host, env: Any, functions: dict[str, Any]
) -> None:
    """Asked by a caller with no MTD Guard role, each route names the role it needs (403) before it
    does anything; only the anonymous health probe answers."""
    env(REQUIRE_ENTRA_ROLE="true", WEBSITE_AUTH_ENABLED="True")
    registered = registered_routes(functions)
    wrong = []
    for (method, route), documented in documented_routes().items():
        params = {key: "x" for key in re.findall(r"\{(\w+)\}", route)}
        path = "/api/" + re.sub(r"\{(\w+)\}", "x", route)
        response = host.http(
            registered[(method, route)], method, path, route_params=params, headers=principal_without_roles()
        )
        if response.status_code == 403:
            actual = json.loads(response.get_body())["requiredRole"]
        else:
            actual = ANONYMOUS if response.status_code == 200 else f"HTTP {response.status_code}"
        if actual != documented:
            wrong.append(f"{method} /api/{route}: documented {documented!r}, checks {actual!r}")
    assert not wrong, "\n".join(wrong)


# -- the Makefile's own documentation --------------------------------------------------------------


def make(*args: str) -> str:
    command = ["make", "--no-print-directory", *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_help_names_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = {t for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.M) for t in line.split()}
    helped = set(re.findall(r"^make ([\w-]+)", make("help"), re.M))
    assert targets == helped, f"missing from make help: {targets - helped}; not targets: {helped - targets}"


def test_make_clean_removes_the_azurite_data_too() -> None:
    removed = make("-n", "clean").split()
    for folder in (".azurite", ".venv", "tools/azurite/node_modules"):
        assert folder in removed, f"make clean leaves {folder}"


def _mapped_paths(text: str) -> set[str]:
    """The paths the architecture tree names: each line's first word, under the folders above it
    (two spaces of indent per level)."""
    block = text.split("```text", 1)[1].split("```", 1)[0]
    stack: list[str] = []
    found: set[str] = set()
    for line in block.splitlines():
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name = line.split()[0]
        stack = [*stack[:depth], name]
        found.add("".join(stack))
    return found


def test_the_architecture_map_names_every_module() -> None:
    """docs/architecture.md keeps the map: a module added under shared/ or functions/ without a line
    in its folder there is a module a newcomer cannot find."""
    mapped = _mapped_paths((DOCS / "architecture.md").read_text())
    missing = [
        str(module.relative_to(ROOT))
        for package in ("shared", "functions")
        for module in sorted((ROOT / package).rglob("*.py"))
        if module.name != "__init__.py" and str(module.relative_to(ROOT)) not in mapped
    ]
    assert not missing, f"modules missing from docs/architecture.md: {missing}"
