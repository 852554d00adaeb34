"""Who is calling: the Entra principal App Service authentication (Easy Auth) vouches for.

With Easy Auth on, the platform validates the caller's token, strips any client-sent
``X-MS-CLIENT-PRINCIPAL*`` headers and adds its own. These headers are therefore only trustworthy
when Easy Auth is enabled, which the platform says with ``WEBSITE_AUTH_ENABLED=True``
(``shared.settings.platform_authentication``); without it anyone can send them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The app roles of MTD Guard's Entra app registration, as the ``roles`` claim carries them."""

    READER = "MtdGuard.Reader"  # read connectors, findings, audit, alerts
    OPERATOR = "MtdGuard.Operator"  # everything a reader can, plus checks and changes

    def granted_by(self, roles: frozenset[str]) -> bool:
        """Whether a caller holding ``roles`` (the token's role claim values) may act as this role."""
        # An operator can do everything a reader can.
        return self.value in roles or (self is Role.READER and Role.OPERATOR.value in roles)


MAX_HEADER = 16_384  # characters; Easy Auth's principal with a few dozen claims is a few KB
_ROLE_CLAIMS = frozenset({"roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"})
_NAME_CLAIMS = ("preferred_username", "upn", "name", "appid", "azp")


@dataclass(frozen=True)
class Principal:
    """The caller Easy Auth vouches for: Entra object id (``X-MS-CLIENT-PRINCIPAL-ID``), a
    readable name (UPN, name or app id) and the role claim values, all None/empty when not sent."""

    id: str | None
    name: str | None
    roles: frozenset[str]

    @property
    def display(self) -> str:
        """How the caller is named in audit entries and messages: the name, else the object id."""
        return self.name or self.id or "unknown principal"


def from_headers(headers: Mapping[str, str]) -> Principal | None:
    """The principal in the ``X-MS-CLIENT-PRINCIPAL*`` headers, or None when the request carries
    none or one that cannot be read (not base64, not a JSON object, claims of the wrong shape,
    nested too deep). Never raises. Trust it only when App Service authentication is on
    (``functions.http.endpoint.trusted_principal``): otherwise anyone can send these headers."""
    lowered = {k.lower(): v for k, v in headers.items()}
    encoded = lowered.get("x-ms-client-principal")
    if not encoded or len(encoded) > MAX_HEADER:
        return None
    try:
        data = json.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return None  # RecursionError: "[[[[..." nested deeper than the parser goes
    if not isinstance(data, dict):
        return None
    role_type = data.get("role_typ")
    raw_claims = data.get("claims")
    claims = [
        (c["typ"], str(c["val"]))
        for c in (raw_claims if isinstance(raw_claims, list) else [])
        if isinstance(c, dict) and isinstance(c.get("typ"), str) and isinstance(c.get("val"), str | int)
    ]
    roles = frozenset(val for typ, val in claims if typ in _ROLE_CLAIMS or typ == role_type)
    by_type = dict(claims)
    name = lowered.get("x-ms-client-principal-name") or next(
        (by_type[t] for t in _NAME_CLAIMS if by_type.get(t)), None
    )
    return Principal(id=lowered.get("x-ms-client-principal-id") or None, name=name, roles=roles)
