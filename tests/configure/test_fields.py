"""The configure rules, pure: reading a settings body, the plan of Graph writes, Intune's refusals
and what is left to do. The end-to-end behaviour (simulator, Azurite) is in test_configure_api.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from shared.configure.fields import (
    FIELDS,
    Action,
    Change,
    InvalidSettings,
    Plan,
    as_settings,
    current_values,
    mam_holders,
    next_steps,
    parse,
    partner_pending,
    plan,
    refusals,
)
from tests.conftest import DEFENDER, LOOKOUT

BLACKBERRY = "a447eca6-a986-4d3f-9838-5862bf50776c"


def problems(body: Any, base: str = "") -> list[tuple[str, str]]:
    with pytest.raises(InvalidSettings) as raised:
        parse(body, base)
    assert str(raised.value) == "; ".join(f"{e.pointer or '/'}: {e.detail}" for e in raised.value.errors)
    return [(e.pointer, e.detail) for e in raised.value.errors]


def test_a_body_in_the_admin_centers_words_becomes_graph_properties() -> None:
    assert parse(
        {
            "android": {"complianceEvaluation": True, "blockOnMissingPartnerData": False},
            "ios": {"appProtectionEvaluation": True},
            "windows": {"appProtectionEvaluation": False},
            "mac": {"complianceEvaluation": True, "blockOnMissingPartnerData": True},
            "appSync": True,
            "personalIosAppInventory": False,
            "blockUnsupportedOsVersions": True,
            "unresponsiveThresholdDays": 1,
        }
    ) == {
        "androidEnabled": True,
        "androidDeviceBlockedOnMissingPartnerData": False,
        "iosMobileApplicationManagementEnabled": True,
        "windowsMobileApplicationManagementEnabled": False,
        "macEnabled": True,
        "macDeviceBlockedOnMissingPartnerData": True,
        "allowPartnerToCollectIOSApplicationMetadata": True,
        "allowPartnerToCollectIOSPersonalApplicationMetadata": False,
        "partnerUnsupportedOsVersionBlocked": True,
        "partnerUnresponsivenessThresholdInDays": 1,
    }
    assert parse({"unresponsiveThresholdDays": 365}) == {"partnerUnresponsivenessThresholdInDays": 365}


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        (0, "must be between 1 and 365 days, got 0"),
        (366, "must be between 1 and 365 days, got 366"),
        (7.5, "must be a whole number of days, got a number"),
        (True, "must be a whole number of days, got a boolean"),
        ("7", "must be a whole number of days, got a string"),
        (None, "must be a whole number of days, got null"),
        ([7], "must be a whole number of days, got an array"),
        ({}, "must be a whole number of days, got an object"),
    ],
)
def test_a_threshold_out_of_range_or_of_the_wrong_type_is_named(value: Any, detail: str) -> None:
    assert problems({"unresponsiveThresholdDays": value}) == [("/unresponsiveThresholdDays", detail)]


def test_every_problem_is_listed_by_json_pointer_with_what_is_known() -> None:
    assert problems(
        {"appSync": 1, "ios": {"x": True, "complianceEvaluation": "yes"}, "a/b~c": 1, "mac": []},
        base="/settings",
    ) == [
        ("/settings/appSync", "must be true or false, got a number"),
        (
            "/settings/ios/x",
            "is not a known setting for ios; known: appProtectionEvaluation, blockOnMissingPartnerData, "
            "complianceEvaluation",
        ),
        ("/settings/ios/complianceEvaluation", "must be true or false, got a string"),
        (
            "/settings/a~1b~0c",
            "is not a known setting here; known: android, ios, windows, mac, appSync, "
            "personalIosAppInventory, blockUnsupportedOsVersions, unresponsiveThresholdDays",
        ),
        ("/settings/mac", "must be a JSON object, got an array"),
    ]
    assert problems({"mac": {"appProtectionEvaluation": True}}) == [
        (
            "/mac/appProtectionEvaluation",
            "is not a setting: Intune has no app protection evaluation for macOS",
        )
    ]
    assert problems({"ios": {"appProtectionEvaluation": None}})[0][1] == "must be true or false, got null"


def test_a_body_that_is_not_an_object_or_names_nothing_is_refused_whole() -> None:
    assert problems([1]) == [("", "must be a JSON object, got an array")]
    assert problems("x", base="/settings") == [("/settings", "must be a JSON object, got a string")]
    assert problems({}) == [("", "names no setting to manage; an empty body changes nothing")]
    assert problems({"ios": {}}) == [("", "names no setting to manage; an empty body changes nothing")]
    with pytest.raises(InvalidSettings, match=r"^/: must be a JSON object, got null$"):
        parse(None)


def test_graph_values_are_read_only_with_their_own_type_and_shown_in_the_bodys_shape() -> None:
    graph = {
        "id": LOOKOUT,
        "androidEnabled": True,
        "iosEnabled": 1,  # not a boolean: ignored
        "partnerUnresponsivenessThresholdInDays": 30,
        "allowPartnerToCollectIOSApplicationMetadata": False,
        "partnerUnsupportedOsVersionBlocked": "true",
        "macEnabled": None,
    }
    values = current_values(graph)
    assert values == {
        "androidEnabled": True,
        "allowPartnerToCollectIOSApplicationMetadata": False,
        "partnerUnresponsivenessThresholdInDays": 30,
    }
    assert current_values({"partnerUnresponsivenessThresholdInDays": True}) == {}
    assert as_settings({**values, "unrelated": 1}) == {
        "android": {"complianceEvaluation": True},
        "appSync": False,
        "unresponsiveThresholdDays": 30,
    }


def test_the_plan_creates_patches_only_what_differs_or_sends_nothing() -> None:
    desired = {"iosEnabled": True, "androidEnabled": True, "partnerUnresponsivenessThresholdInDays": 14}
    created = plan(LOOKOUT, None, desired)
    assert created.action is Action.CREATE and created.before is None
    assert created.body == {
        "id": LOOKOUT,
        "androidEnabled": True,
        "iosEnabled": True,
        "partnerUnresponsivenessThresholdInDays": 14,
    }
    assert created.changes[0] == Change(
        "/android/complianceEvaluation",
        "androidEnabled",
        "Connect Android devices to the partner (compliance evaluation)",
        None,
        True,
    )
    assert created.predicted == desired

    current = {"androidEnabled": True, "iosEnabled": False, "partnerUnresponsivenessThresholdInDays": 7}
    patched = plan(LOOKOUT, current, desired)
    assert patched.action is Action.UPDATE
    assert patched.body == {"iosEnabled": True, "partnerUnresponsivenessThresholdInDays": 14}
    assert [c.view() for c in patched.changes] == [
        {
            "field": "/ios/complianceEvaluation",
            "property": "iosEnabled",
            "label": "Connect iOS/iPadOS devices to the partner (compliance evaluation)",
            "from": False,
            "to": True,
        },
        {
            "field": "/unresponsiveThresholdDays",
            "property": "partnerUnresponsivenessThresholdInDays",
            "label": "Number of days until partner is unresponsive",
            "from": 7,
            "to": 14,
        },
    ]
    assert patched.before == current and patched.predicted == {**current, **desired}

    same = plan(LOOKOUT, {**current, **desired}, desired)
    assert (same.action, same.changes, same.body) == (Action.NONE, [], {})
    assert same.predicted == {**current, **desired}


def test_beta_only_settings_are_refused_on_v1_and_accepted_on_beta() -> None:
    desired = {"macEnabled": False, "windowsMobileApplicationManagementEnabled": True, "androidEnabled": True}
    found = refusals(LOOKOUT, desired, api_version="v1.0", others_mam={})
    assert [(r.status, r.kind, r.title, r.pointer) for r in found] == [
        (422, "beta-required", "Needs the beta endpoint", "/windows/appProtectionEvaluation"),
        (422, "beta-required", "Needs the beta endpoint", "/mac/complianceEvaluation"),
    ]
    assert found[1].detail == (
        "/mac/complianceEvaluation (macEnabled) exists only on Microsoft Graph beta, and this app talks "
        "to v1.0. Set GRAPH_API_VERSION=beta to manage it, or leave the field out."
    )
    assert refusals(LOOKOUT, desired, api_version="beta", others_mam={}) == []


def test_app_protection_held_elsewhere_is_a_409_naming_every_holder() -> None:
    found = refusals(
        LOOKOUT,
        {"androidMobileApplicationManagementEnabled": True, "iosMobileApplicationManagementEnabled": False},
        api_version="v1.0",
        others_mam={"android": [DEFENDER, BLACKBERRY], "ios": [DEFENDER]},
    )
    assert len(found) == 1
    taken = found[0]
    assert (taken.status, taken.kind, taken.title, taken.pointer) == (
        409,
        "app-protection-taken",
        "App protection evaluation is taken",
        "/android/appProtectionEvaluation",
    )
    assert taken.detail == (
        "Intune allows app protection evaluation on android for only one partner, and Microsoft Defender "
        "for Endpoint and BlackBerry Protect Mobile has it. Turn it off there first (PUT "
        '/api/connectors/defender with {"android": {"appProtectionEvaluation": false}}), then retry.'
    )
    assert taken.extra == {
        "heldBy": [
            {"id": DEFENDER, "partner": "Microsoft Defender for Endpoint"},
            {"id": BLACKBERRY, "partner": "BlackBerry Protect Mobile"},
        ]
    }


def test_a_platform_a_confirmed_partner_does_not_offer_is_refused_when_turned_on_only() -> None:
    found = refusals(
        DEFENDER.upper(),
        {"windowsMobileApplicationManagementEnabled": True, "macEnabled": True, "iosEnabled": True},
        api_version="beta",
        others_mam={},
    )
    assert [(r.status, r.kind, r.title, r.pointer) for r in found] == [
        (422, "partner-capability", "Not offered by this partner", "/windows/appProtectionEvaluation"),
        (422, "partner-capability", "Not offered by this partner", "/mac/complianceEvaluation"),
    ]
    assert found[0].detail == (
        "Microsoft Defender for Endpoint does not offer app protection evaluation on windows: the Intune "
        "connector for Defender for Endpoint offers Android, iOS/iPadOS and Windows, and app protection "
        "evaluation on Android and iOS/iPadOS."
    )
    assert found[1].detail.startswith(
        "Microsoft Defender for Endpoint does not offer device compliance on mac: "
    )
    # Turning off is always allowed; app protection is not limited where it is not confirmed.
    assert refusals(DEFENDER, {"macEnabled": False}, api_version="beta", others_mam={}) == []
    assert (
        refusals(
            BLACKBERRY, {"androidMobileApplicationManagementEnabled": True}, api_version="v1.0", others_mam={}
        )
        == []
    )
    assert [
        r.pointer for r in refusals(BLACKBERRY, {"windowsEnabled": True}, api_version="v1.0", others_mam={})
    ] == ["/windows/complianceEvaluation"]
    # Settings that belong to no platform are never limited.
    assert (
        refusals(
            BLACKBERRY,
            {"allowPartnerToCollectIOSApplicationMetadata": True},
            api_version="v1.0",
            others_mam={},
        )
        == []
    )


def test_mam_holders_are_the_other_connectors_with_app_protection_on() -> None:
    connectors: list[tuple[str, Mapping[str, bool]]] = [
        (LOOKOUT.upper(), {"androidMobileApplicationManagementEnabled": True}),
        (
            DEFENDER,
            {
                "androidMobileApplicationManagementEnabled": True,
                "iosMobileApplicationManagementEnabled": True,
            },
        ),
        (BLACKBERRY, {"iosEnabled": True, "windowsMobileApplicationManagementEnabled": False}),
    ]
    assert mam_holders(connectors, LOOKOUT) == {"android": [DEFENDER], "ios": [DEFENDER]}
    assert mam_holders(connectors, DEFENDER) == {"android": [LOOKOUT.upper()]}


@pytest.mark.parametrize(
    ("state", "heartbeat", "pending"),
    [
        ("notSetUp", "2026-01-01T00:00:00Z", True),
        ("available", None, True),
        ("neverConfigured", None, True),
        ("unknownFutureValue", None, True),
        ("unknownFutureValue", "2026-01-01T00:00:00Z", False),
        ("enabled", None, False),
        (None, None, False),
    ],
)
def test_the_partner_side_is_pending_until_it_has_ever_reported(
    state: str | None, heartbeat: str | None, pending: bool
) -> None:
    assert partner_pending(state, heartbeat) is pending
    assert bool(next_steps(LOOKOUT, state, heartbeat)) is pending


def test_next_steps_name_the_partner_console_and_where_to_watch() -> None:
    assert next_steps(LOOKOUT, "notSetUp", None) == [
        "Finish the set-up on Lookout for Work's side: open the Lookout for Work admin console and connect "
        "it to this Intune tenant (Intune shows the connector as 'notSetUp' until the partner has done its "
        "part).",
        "The heartbeat monitor shows when the partner connects: watch GET /api/connectors/lookout (health "
        "leaves 'notSetUp' with the first heartbeat), or run POST /api/checks/heartbeat to look now.",
    ]


def test_each_platform_toggle_has_the_admin_centers_label_and_graphs_property() -> None:
    # Built when the module loads: mutmut cannot mutate it (docs/development.md), this pins it.
    rows = [(f.pointer, f.graph, f.label, f.beta_only, f.mam) for f in FIELDS if f.platform]
    expected = []
    for platform, title, beta, mam, mam_beta in (
        ("android", "Android", False, True, False),
        ("ios", "iOS/iPadOS", False, True, False),
        ("windows", "Windows", False, True, True),
        ("mac", "macOS", True, False, False),
    ):
        expected += [
            (
                f"/{platform}/complianceEvaluation",
                f"{platform}Enabled",
                f"Connect {title} devices to the partner (compliance evaluation)",
                beta,
                False,
            ),
            (
                f"/{platform}/blockOnMissingPartnerData",
                f"{platform}DeviceBlockedOnMissingPartnerData",
                f"Mark {title} devices noncompliant until partner data arrives",
                beta,
                False,
            ),
        ]
        if mam:
            expected.append(
                (
                    f"/{platform}/appProtectionEvaluation",
                    f"{platform}MobileApplicationManagementEnabled",
                    f"App protection policy evaluation for {title} devices",
                    mam_beta,
                    True,
                )
            )
    assert rows == expected
    assert [f.platform for f in FIELDS if f.platform] == ["android"] * 3 + ["ios"] * 3 + ["windows"] * 3 + [
        "mac"
    ] * 2


def test_each_plan_names_its_connector_and_what_it_held_before() -> None:
    created = plan(LOOKOUT, None, {"iosEnabled": True})
    change = Change(
        "/ios/complianceEvaluation",
        "iosEnabled",
        "Connect iOS/iPadOS devices to the partner (compliance evaluation)",
        None,
        True,
    )
    assert created == Plan(
        LOOKOUT, Action.CREATE, [change], {"id": LOOKOUT, "iosEnabled": True}, None, {"iosEnabled": True}
    )
    current = {"iosEnabled": False, "androidEnabled": True}
    before: dict[str, bool | int] = {"iosEnabled": False, "androidEnabled": True}
    updated = plan(LOOKOUT, current, {"iosEnabled": True})
    assert updated == Plan(
        LOOKOUT,
        Action.UPDATE,
        [Change(change.field, change.property, change.label, False, True)],
        {"iosEnabled": True},
        before,
        {"iosEnabled": True, "androidEnabled": True},
    )
    unchanged = plan(LOOKOUT, current, {"androidEnabled": True})
    assert unchanged == Plan(LOOKOUT, Action.NONE, [], {}, before, before)


def test_a_mac_only_request_is_still_checked_for_the_beta_endpoint() -> None:
    # The fields before it in the table are absent from the request: each is skipped, not the rest.
    found = refusals(
        LOOKOUT, {"macDeviceBlockedOnMissingPartnerData": True}, api_version="v1.0", others_mam={}
    )
    assert [(r.status, r.pointer) for r in found] == [(422, "/mac/blockOnMissingPartnerData")]
    off_first = {"androidEnabled": False, "macEnabled": True}
    found = refusals(LOOKOUT, off_first, api_version="v1.0", others_mam={})
    assert [(r.status, r.pointer) for r in found] == [(422, "/mac/complianceEvaluation")]


def test_an_unknown_mac_setting_lists_the_mac_settings_and_app_protection_is_explained() -> None:
    assert problems({"mac": {"bogus": True, "appProtectionEvaluation": True}}) == [
        (
            "/mac/bogus",
            "is not a known setting for mac; known: blockOnMissingPartnerData, complianceEvaluation",
        ),
        (
            "/mac/appProtectionEvaluation",
            "is not a setting: Intune has no app protection evaluation for macOS",
        ),
    ]
