"""The classic policy inventory, pure: every problem of an imported body at its RFC 6901 pointer, and
what an import reports against the baseline (added, disabled, modified, deleted; the first import
quiet). End to end (the HTTP route and the store): test_drift.py."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.conditional_access.classic.inventory import (
    InvalidInventory,
    Inventory,
    InventoryEntry,
    diff_inventory,
    parse_inventory,
    refreshed,
)
from shared.conditional_access.classic.matching import ClassicChange
from shared.conditional_access.classic.rows import ClassicPolicy, Drift, PolicyState
from tests.conftest import LOOKOUT

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PID = "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0001"
PID2 = "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0002"
ZIMPERIUM = "08a8455c-48dd-45ff-ad82-7211355354f3"
SLUGS = (
    "defender, lookout, symantec, checkpoint, zimperium, pradeo, better, sophos, jamf, blackberry, "
    "trendmicro, sentinelone, crowdstrike, windows-security-center, trellix, iverify"
)
UNKNOWN_PARTNER = f"not a known partner; use a slug ({SLUGS}) or a connector id, or leave it out"
POLICY_FIELDS = "unknown field (allowed: details, displayName, id, partner, state)"


def sha16(text: str) -> str:
    """The first 16 hex digits of SHA-256 of ``text``: how the hashes are documented to be built."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def refused(body: Any) -> list[str]:
    with pytest.raises(InvalidInventory) as raised:
        parse_inventory(body, NOW)
    errors = [f"{e.pointer}|{e.detail}" for e in raised.value.errors]
    assert str(raised.value) == "; ".join(f"{e.pointer or '/'}: {e.detail}" for e in raised.value.errors)
    return errors


def policy(name: str = "Lookout MTD", **kw: Any) -> dict[str, Any]:
    return {"displayName": name, "state": "enabled", **kw}


def test_a_body_that_is_not_an_object_or_lacks_its_policies_is_refused_at_the_root() -> None:
    assert refused([]) == ["|the body must be a JSON object with a 'policies' array"]
    assert refused("policies") == ["|the body must be a JSON object with a 'policies' array"]
    assert refused({}) == ["/policies|required, an array (empty when no classic policy exists)"]
    assert refused({"policies": {"a": 1}}) == [
        "/policies|required, an array (empty when no classic policy exists)"
    ]


def test_every_problem_of_the_envelope_is_listed_before_the_missing_policies() -> None:
    assert refused({"a/b": 1, "x~y": 2, "exportedAt": "2026-11-20", "exportedBy": 7}) == [
        "/a~1b|unknown field (allowed: exportedAt, exportedBy, policies)",
        "/x~0y|unknown field (allowed: exportedAt, exportedBy, policies)",
        "/exportedAt|must be a date-time with its offset, such as 2026-11-20T09:00:00Z",
        "/exportedBy|must be text of at most 256 characters",
        "/policies|required, an array (empty when no classic policy exists)",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-20T09:00:00",  # no offset
        "2026-11-20 09:00:00Z",  # no 'T'
        "2026-11-20T09:00Z",  # no seconds
        "x2026-11-20T09:00:00Z",
        "2026-11-20T09:00:00Zx",
        "2026-11-20T09:00:00+0200",
        "",
    ],
)
def test_an_export_time_without_date_time_and_offset_is_refused(text: str) -> None:
    assert refused({"exportedAt": text, "policies": []}) == [
        "/exportedAt|must be a date-time with its offset, such as 2026-11-20T09:00:00Z"
    ]
    assert refused({"exportedAt": 1763629200, "policies": []}) == [
        "/exportedAt|must be a date-time with its offset, such as 2026-11-20T09:00:00Z"
    ]


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-11-20T09:00:00Z", datetime(2026, 11, 20, 9, 0, tzinfo=UTC)),
        ("2026-11-20t09:00:00z", datetime(2026, 11, 20, 9, 0, tzinfo=UTC)),
        ("2026-11-20T11:00:00+02:00", datetime(2026, 11, 20, 9, 0, tzinfo=UTC)),
        ("2026-11-20T09:00:00.250Z", datetime(2026, 11, 20, 9, 0, 0, 250000, tzinfo=UTC)),
        ("2026-11-20T12:05:00Z", NOW + timedelta(minutes=5)),  # clock skew allowed
        ("2015-01-01T00:00:00Z", datetime(2015, 1, 1, tzinfo=UTC)),
    ],
)
def test_an_export_time_with_its_offset_is_kept(text: str, moment: datetime) -> None:
    inventory = parse_inventory({"exportedAt": text, "exportedBy": "ops@contoso.com", "policies": []}, NOW)
    assert inventory == Inventory([], moment, "ops@contoso.com")


def test_an_export_time_in_the_future_or_before_2015_is_refused() -> None:
    assert refused({"exportedAt": "2026-11-20T12:05:01Z", "policies": []}) == [
        "/exportedAt|lies in the future"
    ]
    assert refused({"exportedAt": "2014-12-31T23:59:59Z", "policies": []}) == ["/exportedAt|lies before 2015"]


def test_the_exporter_is_text_of_at_most_256_characters() -> None:
    assert parse_inventory({"exportedBy": "o" * 256, "policies": []}, NOW).exported_by == "o" * 256
    assert parse_inventory({"policies": []}, NOW) == Inventory([], None, None)
    assert refused({"exportedBy": "o" * 257, "policies": []}) == [
        "/exportedBy|must be text of at most 256 characters"
    ]
    assert refused({"exportedBy": None, "policies": []}) == [
        "/exportedBy|must be text of at most 256 characters"
    ]


def test_at_most_500_policies_are_read() -> None:
    five_hundred = [policy(f"p{i}") for i in range(500)]
    assert len(parse_inventory({"policies": five_hundred}, NOW).policies) == 500
    # The 501st is not even looked at: its own problems are not listed.
    assert refused({"policies": [*five_hundred, "not an object"]}) == ["/policies|more than 500 entries"]


def test_every_problem_of_each_policy_is_listed_at_its_pointer() -> None:
    assert refused(
        {
            "policies": [
                "Lookout MTD",
                {"x": 1, "displayName": "  ", "id": "not-a-guid", "state": "Enabled", "partner": "nokia"},
                {"displayName": "n" * 257, "id": 5, "partner": 7},
                {"displayName": 3, "state": "deleted"},
            ]
        }
    ) == [
        "/policies/0|must be a JSON object",
        f"/policies/1/x|{POLICY_FIELDS}",
        "/policies/1/displayName|required, text of 1 to 256 characters",
        "/policies/1/id|must be the policy's object id (a GUID) when given",
        "/policies/1/state|required, 'enabled' or 'disabled'",
        f"/policies/1/partner|{UNKNOWN_PARTNER}",
        "/policies/2/displayName|required, text of 1 to 256 characters",
        "/policies/2/id|must be the policy's object id (a GUID) when given",
        "/policies/2/state|required, 'enabled' or 'disabled'",
        f"/policies/2/partner|{UNKNOWN_PARTNER}",
        "/policies/3/displayName|required, text of 1 to 256 characters",
        "/policies/3/state|required, 'enabled' or 'disabled'",
    ]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (policy(x=1), f"/policies/0/x|{POLICY_FIELDS}"),
        (policy(""), "/policies/0/displayName|required, text of 1 to 256 characters"),
        (
            policy(id="3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d000"),
            "/policies/0/id|must be the policy's object id (a GUID) when given",
        ),
        (policy(id=f"{PID}0"), "/policies/0/id|must be the policy's object id (a GUID) when given"),
        (policy(id=f"x{PID}"), "/policies/0/id|must be the policy's object id (a GUID) when given"),
        (
            policy(id="3f1c2a9e07b0d-4c55-9e61-0a8b6c1d0001"),
            "/policies/0/id|must be the policy's object id (a GUID) when given",
        ),
        (
            policy(id="3f1c2a9g-7b0d-4c55-9e61-0a8b6c1d0001"),
            "/policies/0/id|must be the policy's object id (a GUID) when given",
        ),
        (policy(id=None), "/policies/0/id|must be the policy's object id (a GUID) when given"),
        (policy(state="disabled ", partner="lookout"), "/policies/0/state|required, 'enabled' or 'disabled'"),
        ({"displayName": "Lookout MTD"}, "/policies/0/state|required, 'enabled' or 'disabled'"),
        (policy(partner="7d9a6c1e-0000-4000-8000-00000000beef"), f"/policies/0/partner|{UNKNOWN_PARTNER}"),
        (policy(partner=None), f"/policies/0/partner|{UNKNOWN_PARTNER}"),
    ],
)
def test_one_bad_field_of_a_policy_is_named_alone(entry: dict[str, Any], problem: str) -> None:
    assert refused({"policies": [entry]}) == [problem]


def test_the_same_policy_listed_twice_is_refused_by_id_or_by_name() -> None:
    assert refused(
        {
            "policies": [
                policy("A", id=PID),
                policy("B", id=PID.upper()),
                policy("Zimperium MTD"),
                policy("zimperium mtd "),
                policy("Other", id=PID2),
            ]
        }
    ) == [
        "/policies/1|the same policy is listed twice ('B')",
        "/policies/3|the same policy is listed twice ('zimperium mtd')",
    ]


def test_a_valid_inventory_is_read_entry_by_entry() -> None:
    inventory = parse_inventory(
        {
            "exportedAt": "2026-11-20T09:00:00Z",
            "exportedBy": "ops@contoso.com",
            "policies": [
                {"id": PID.upper(), "displayName": " Lookout MTD ", "state": "enabled", "partner": "lookout"},
                {
                    "displayName": "n" * 256,
                    "state": "disabled",
                    "partner": ZIMPERIUM,
                    "details": {"b": [1, 2]},
                },
                {"displayName": "Token policy", "state": "enabled"},
            ],
        },
        NOW,
    )
    assert inventory == Inventory(
        [
            InventoryEntry(
                policy_id=PID.upper(),
                display_name="Lookout MTD",
                state=PolicyState.ENABLED,
                partner_id=LOOKOUT,
                content_hash=sha16('{"details":null,"displayName":"Lookout MTD"}'),
            ),
            InventoryEntry(
                policy_id=None,
                display_name="n" * 256,
                state=PolicyState.DISABLED,
                partner_id=ZIMPERIUM,
                content_hash=sha16('{"details":{"b":[1,2]},"displayName":"' + "n" * 256 + '"}'),
            ),
            InventoryEntry(
                policy_id=None,
                display_name="Token policy",
                state=PolicyState.ENABLED,
                partner_id=None,
                content_hash=sha16('{"details":null,"displayName":"Token policy"}'),
            ),
        ],
        datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        "ops@contoso.com",
    )


def baseline_policy(name: str, policy_id: str | None, **kw: Any) -> ClassicPolicy:
    fields: dict[str, Any] = {
        "tenant_id": "t",
        "key": policy_id or "name-" + sha16(name.casefold()),
        "policy_id": policy_id,
        "display_name": name,
        "state": PolicyState.ENABLED,
        "partner_id": None,
        "partner": None,
        "content_hash": "0" * 16,
        "source": "audit",
        "first_seen": NOW - timedelta(days=3),
        "updated_at": NOW - timedelta(days=3),
    }
    fields.update(kw)
    return ClassicPolicy(**fields)


def entry(name: str, policy_id: str | None = None, state: PolicyState = PolicyState.ENABLED, **kw: Any):
    fields: dict[str, Any] = {
        "policy_id": policy_id,
        "display_name": name,
        "state": state,
        "partner_id": None,
        "content_hash": "0" * 16,
    }
    fields.update(kw)
    return InventoryEntry(**fields)


def imported(
    drift: Drift, name: str, policy_id: str | None, evidence: str, at: datetime = NOW, **kw: Any
) -> ClassicChange:
    fields: dict[str, Any] = {
        "drift": drift,
        "policy_id": policy_id,
        "display_name": name,
        "at": at,
        "source": "import",
        "by": "ops",
        "evidence": evidence,
        "content_hash": "0" * 16,
        "new_state": PolicyState.ENABLED,
    }
    fields.update(kw)
    return ClassicChange(**fields)


LISTED = "listed in the imported inventory"


def test_the_first_import_only_sets_the_baseline() -> None:
    exported = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
    baseline = {PID2: baseline_policy("Gone", PID2)}
    inventory = Inventory(
        [entry("Lookout MTD", PID, partner_id=LOOKOUT), entry("Old", state=PolicyState.DISABLED)], exported
    )
    drift, quiet = diff_inventory(inventory, baseline, first_import=True, by="ops", now=NOW)
    assert drift == []
    assert quiet == [
        imported(Drift.MODIFIED, "Lookout MTD", PID, LISTED, exported, partner_id=LOOKOUT),
        imported(Drift.MODIFIED, "Old", None, LISTED, exported, new_state=PolicyState.DISABLED),
    ]


def test_a_later_import_reports_each_kind_of_drift_and_refreshes_the_rest_quietly() -> None:
    baseline = {
        p.key: p
        for p in [
            baseline_policy("Same", PID),
            baseline_policy("Was deleted", PID2, state=PolicyState.DELETED),
            baseline_policy("To disable", None),
            baseline_policy("Already off", None, state=PolicyState.DISABLED),
            baseline_policy("Edited", None),
            baseline_policy("Audit only", None, content_hash=None),
            baseline_policy("Missing", None),
            baseline_policy("Missing and deleted", None, state=PolicyState.DELETED),
        ]
    }
    inventory = Inventory(
        [
            entry("Same", PID.upper()),
            entry("Was deleted", PID2),
            entry("New one"),
            entry("to DISABLE", state=PolicyState.DISABLED),
            entry("Already off", state=PolicyState.DISABLED),
            entry("Edited", content_hash="1" * 16),
            entry("Audit only", content_hash="1" * 16),
        ]
    )
    drift, quiet = diff_inventory(inventory, baseline, first_import=False, by="ops", now=NOW)
    assert drift == [
        imported(Drift.ADDED, "Was deleted", PID2, LISTED),
        imported(Drift.ADDED, "New one", None, LISTED),
        imported(
            Drift.DISABLED,
            "to DISABLE",
            None,
            "state enabled -> disabled in the imported inventory",
            new_state=PolicyState.DISABLED,
        ),
        imported(
            Drift.MODIFIED,
            "Edited",
            None,
            "its name or details differ from the baseline in the imported inventory",
            content_hash="1" * 16,
        ),
        imported(
            Drift.DELETED,
            "Missing",
            None,
            "in the baseline but missing from the imported inventory",
            content_hash=None,
            new_state=PolicyState.DELETED,
        ),
    ]
    assert quiet == [
        imported(Drift.MODIFIED, "Same", PID.upper(), LISTED),
        imported(Drift.MODIFIED, "Already off", None, LISTED, new_state=PolicyState.DISABLED),
        imported(Drift.MODIFIED, "Audit only", None, LISTED, content_hash="1" * 16),
    ]


def test_an_empty_later_import_reports_every_existing_policy_deleted_at_the_export_time() -> None:
    exported = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
    baseline = {PID: baseline_policy("Lookout MTD", PID)}
    drift, quiet = diff_inventory(Inventory([], exported), baseline, first_import=False, by="ops", now=NOW)
    assert quiet == []
    assert drift == [
        ClassicChange(
            drift=Drift.DELETED,
            policy_id=PID,
            display_name="Lookout MTD",
            at=exported,
            source="import",
            by="ops",
            evidence="in the baseline but missing from the imported inventory",
            new_state=PolicyState.DELETED,
        )
    ]


def quiet_change(name: str, policy_id: str | None, **kw: Any) -> ClassicChange:
    return imported(Drift.MODIFIED, name, policy_id, LISTED, **kw)


def test_a_quiet_entry_refreshes_a_new_baseline_row_from_the_import() -> None:
    row = refreshed(None, quiet_change("Lookout MTD", PID.upper()), tenant_id="t", now=NOW)
    assert row == ClassicPolicy(
        tenant_id="t",
        key=PID,
        policy_id=PID.upper(),
        display_name="Lookout MTD",
        state=PolicyState.ENABLED,
        partner_id=LOOKOUT,  # recognised from the name
        partner="Lookout for Work",
        content_hash="0" * 16,
        source="import",
        first_seen=NOW,
        updated_at=NOW,
        last_change="imported by ops",
    )
    unnamed = refreshed(None, quiet_change(" Token Policy ", None, new_state=None), tenant_id="t", now=NOW)
    assert (unnamed.key, unnamed.state, unnamed.partner_id, unnamed.partner) == (
        "name-" + sha16("token policy"),
        PolicyState.UNKNOWN,
        None,
        None,
    )
    named = refreshed(None, quiet_change("Token Policy", None, partner_id=ZIMPERIUM), tenant_id="t", now=NOW)
    assert (named.partner_id, named.partner) == (ZIMPERIUM, "Zimperium")


def test_a_quiet_entry_keeps_what_the_baseline_row_knew() -> None:
    known = baseline_policy(
        "Token Policy", PID, partner_id=ZIMPERIUM, partner="Zimperium", last_change="disabled by admin"
    )
    row = refreshed(known, quiet_change("Token Policy", PID), tenant_id="t", now=NOW)
    assert row == ClassicPolicy(
        tenant_id="t",
        key=PID,
        policy_id=PID,
        display_name="Token Policy",
        state=PolicyState.ENABLED,
        partner_id=ZIMPERIUM,
        partner="Zimperium",
        content_hash="0" * 16,
        source="audit",
        first_seen=NOW - timedelta(days=3),
        updated_at=NOW,
        last_change="disabled by admin",
    )
    # The partner the admin names in the inventory wins over the one the baseline knew.
    renamed = refreshed(known, quiet_change("Token Policy", PID, partner_id=LOOKOUT), tenant_id="t", now=NOW)
    assert (renamed.partner_id, renamed.partner) == (LOOKOUT, "Lookout for Work")


def test_the_content_hash_covers_name_and_details_in_canonical_json() -> None:
    first = parse_inventory({"policies": [policy("A", details={"y": 1, "x": "é"})]}, NOW).policies[0]
    assert first.content_hash == sha16('{"details":{"x":"\\u00e9","y":1},"displayName":"A"}')
    assert json.dumps({"x": "é"}) == '{"x": "\\u00e9"}'  # the escaping the hash relies on
