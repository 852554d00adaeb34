"""The ticket webhooks' settings: how POST /api/hooks/jira is authenticated (registry: shared/settings.py).

Read as ``shared.settings.Settings.jira_webhook_secret`` and, for the unresolved-reference check,
by functions/hooks.py through ``shared.settings.unresolved_reference``.
"""

from __future__ import annotations

from shared.setting_spec import SettingSpec, text

JIRA_WEBHOOK_SECRET = SettingSpec(
    "JIRA_WEBHOOK_SECRET",
    "Set: every POST /api/hooks/jira must carry X-Hub-Signature: sha256=<HMAC-SHA256 of the raw "
    "body> with this secret (Jira admin webhooks sign so), else 401. Unset: no signature check "
    "(function key and Entra role still apply).",
    text,
    secret=True,
    absent_if_unresolved=True,  # optional: a deployment without Jira has no such secret
)

SPECS = (JIRA_WEBHOOK_SECRET,)
