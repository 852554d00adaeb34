"""Inputs from outside, generated: every answer is a 2xx, 3xx or a 4xx problem, never a 5xx
(issue 11, "Bad input"). Bodies of every route that reads one (any JSON: deep, wide, long, of any
type), dates of every route that takes one, and forged principal headers, through the real
functions, Azurite and the Graph simulator. Each input sent is counted in the chaos figures."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_bad_input import BODY_ROUTES
from tests.chaos.figures import Figures
from tests.conftest import Host

EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=300)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=8) | st.dictionaries(st.text(max_size=40), inner, max_size=12),
    max_leaves=60,
)
_bodies = _json.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=2000)


def _answered_in_kind(response: Any) -> int:
    status: int = response.status_code
    assert status < 500, response.get_body()[:500]
    if status >= 400:
        assert response.mimetype == "application/problem+json"
    return status


@pytest.mark.parametrize(("name", "method", "path", "route"), BODY_ROUTES)
@EXAMPLES
@given(raw=_bodies)
def test_any_body_is_answered_without_a_server_error(
    host: Host, figures: Figures, name: str, method: str, path: str, route: dict[str, str], raw: bytes
) -> None:
    figures.bad_inputs += 1
    _answered_in_kind(host.http(name, method, path, route_params=route, body=raw))


@pytest.mark.parametrize(
    ("name", "path", "parameter"),
    [
        ("alerts_list", "/api/alerts", "since"),
        ("audit_list", "/api/audit", "until"),
        ("audit_list", "/api/audit", "since"),
    ],
)
@EXAMPLES
@given(value=st.text(max_size=60) | st.datetimes().map(lambda d: d.isoformat()))
def test_any_date_parameter_is_answered_without_a_server_error(
    host: Host, figures: Figures, name: str, path: str, parameter: str, value: str
) -> None:
    figures.bad_inputs += 1
    _answered_in_kind(host.http(name, "GET", path, params={parameter: value}))


@EXAMPLES
@given(claims=_json, raw=st.binary(max_size=300), encode=st.booleans())
def test_any_forged_principal_is_answered_without_a_server_error(
    host: Host, env: Callable[..., None], figures: Figures, claims: Any, raw: bytes, encode: bool
) -> None:
    env(REQUIRE_ENTRA_ROLE="true", WEBSITE_AUTH_ENABLED="True")
    header = base64.b64encode(json.dumps(claims).encode() if encode else raw).decode()
    figures.bad_inputs += 1
    status = _answered_in_kind(
        host.http("checks_run", "POST", "/api/checks/heartbeat", headers={"X-MS-CLIENT-PRINCIPAL": header})
    )
    assert status in (401, 403)  # no valid principal with the Operator role can come out of this
