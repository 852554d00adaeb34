// MTD Guard: everything `azd up` creates, in one resource group.
// Layout follows the Azure-Samples Functions Flex Consumption quickstarts (subscription scope,
// azd's environmentName/location, azd-env-name and azd-service-name tags), with plain resources
// in modules/ instead of registry modules so the templates can be checked offline.
targetScope = 'subscription'

// ---------------------------------------------------------------------------------------------
// azd
// ---------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to name the resource group and derive a unique suffix for every resource.')
param environmentName string

@minLength(1)
@description('Azure region for all resources. It must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying user or service principal (azd sets AZURE_PRINCIPAL_ID). Gets Key Vault Secrets Officer on the vault so it can set secret values. Empty: no grant.')
param principalId string = ''

@description('Resource group name; empty means rg-<environmentName>.')
param resourceGroupName string = ''

// ---------------------------------------------------------------------------------------------
// Permissions and authentication
// ---------------------------------------------------------------------------------------------

@description('Grant the Microsoft Graph application permissions to the managed identity in this deployment. Needs the Privileged Role Administrator (or Global Administrator) Entra role; set false and run the commands of docs/permissions.md otherwise.')
param grantGraphPermissions bool = true

@description('Intune connector access: ReadOnly (monitoring; DeviceManagementServiceConfig.Read.All) or ReadWrite (also the configure API; DeviceManagementServiceConfig.ReadWrite.All).')
@allowed([
  'ReadOnly'
  'ReadWrite'
])
param connectorAccess string = 'ReadOnly'

@description('Put Microsoft Entra ID authentication (App Service authentication v2) in front of the HTTP API and set REQUIRE_ENTRA_ROLE=true, so callers also need the MtdGuard.Reader or MtdGuard.Operator app role. Needs authClientId. The two always go together: the role check trusts headers only Easy Auth can vouch for.')
param enableEntraAuth bool = false

@description('Application (client) id of the API app registration that defines the MtdGuard.Reader and MtdGuard.Operator app roles (docs/deploy.md). Used only when enableEntraAuth is true.')
param authClientId string = ''

@description('Paths that stay reachable without an Entra token when enableEntraAuth is true: the anonymous health probe and webhook routes that authenticate with their own signature.')
param authExcludedPaths array = [
  '/api/health'
]

// ---------------------------------------------------------------------------------------------
// Scale, retention, cost
// ---------------------------------------------------------------------------------------------

@description('Largest number of Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per Flex Consumption instance in MB; execution is billed per GB-second of this size.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Days Log Analytics keeps logs and telemetry.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Daily Log Analytics ingestion cap in GB (-1: no cap). A runaway log loop then costs at most this much per day.')
param logDailyQuotaGb int = 1

@description('Days a deleted Key Vault stays recoverable. Purge protection keeps its name reserved that long after azd down.')
@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteRetentionInDays int = 7

// ---------------------------------------------------------------------------------------------
// App settings the code reads (shared/settings.py). tests/infra/test_settings_sync.py fails when
// this list and the registry disagree, or when a default here differs from the registry's.
// ---------------------------------------------------------------------------------------------

@description('TENANT_ID: Entra tenant (GUID or verified domain) whose MTD connectors are monitored. Defaults to the tenant of this deployment.')
param tenantId string = tenant().tenantId

@description('GRAPH_ENDPOINT: Microsoft Graph root URL (national clouds: e.g. https://graph.microsoft.us).')
param graphEndpoint string = 'https://graph.microsoft.com'

@description('GRAPH_API_VERSION: v1.0 (supported) or beta (names partner states that v1.0 reports as unknownFutureValue).')
@allowed([
  'v1.0'
  'beta'
])
param graphApiVersion string = 'v1.0'

@description('HEARTBEAT_SCHEDULE: NCRONTAB schedule of the heartbeat monitor, six fields with seconds (UTC).')
param heartbeatSchedule string = '0 */30 * * * *'

@description('DEFAULT_THRESHOLD_DAYS: unresponsive threshold used when a connector reports none (or 0).')
@minValue(1)
@maxValue(365)
param defaultThresholdDays int = 7

@description('EARLY_WARNING_HOURS: longest heartbeat age that is still healthy (the warning point is the lesser of this and half the connector\'s threshold).')
@minValue(1)
@maxValue(8760)
param earlyWarningHours int = 24

@description('HISTORY_RETENTION_DAYS: how long observations (one per change a sweep sees) are kept in the history table; each connector\'s newest is kept however old.')
@minValue(1)
@maxValue(3650)
param historyRetentionDays int = 90

@description('PRUNE_SCHEDULE: NCRONTAB schedule of the daily prune of history and delivered alerts past HISTORY_RETENTION_DAYS (UTC).')
param pruneSchedule string = '0 15 3 * * *'

@description('GRAPH_TRANSIENT_GRACE_MINUTES: how long Graph may throttle or fail transiently before a warning finding and an alert.')
@minValue(0)
@maxValue(10080)
param graphTransientGraceMinutes int = 60

@description('Watchdog: hours without a successful heartbeat sweep before the Azure Monitor alert fires.')
@minValue(1)
@maxValue(48)
param watchdogSilenceHours int = 2

@description('Watchdog: e-mail address that gets the alert when MTD Guard stops sweeping; empty: no action group (the alert shows in Azure Monitor only).')
param watchdogEmail string = ''

@description('TIMER_BUDGET_SECONDS: time budget of one timer run; well inside host.json functionTimeout (10 min).')
@minValue(5)
@maxValue(540)
param timerBudgetSeconds int = 300

@description('HTTP_BUDGET_SECONDS: time budget of one HTTP request; well inside the ~230 s the front end waits.')
@minValue(3)
@maxValue(200)
param httpBudgetSeconds int = 150

// Conditional Access drift (docs/conditional-access.md). How classic
// policy changes appear in the audit log is not documented by Microsoft: the CA_AUDIT_* and
// CA_CLASSIC_* matching settings are configurable, with the documented defaults below.

@description('CA_DRIFT_SCHEDULE: NCRONTAB schedule of the Conditional Access drift monitor (hourly by default: a policy that stops enforcing MTD is high severity; a run costs two or three Graph calls).')
param caDriftSchedule string = '0 7 * * * *'

@description('CA_CLASSIC_SOURCE: audit (read the directory audit log; needs AuditLog.Read.All) or import (only inventories PUT to /api/ca/classic-baseline are compared).')
@allowed([
  'audit'
  'import'
])
param caClassicSource string = 'audit'

@description('AUDIT_LOG_RETENTION_DAYS: days Entra ID keeps directory audit events (30 with Entra ID P1/P2, 7 with Free); a monitor that has not read the log for longer reports it may have missed changes.')
@minValue(1)
@maxValue(30)
param auditLogRetentionDays int = 30

@description('CA_AUDIT_OVERLAP_MINUTES: each audit-log read starts this long before the previous one ended, for events logged late (already processed events are skipped by id).')
@minValue(0)
@maxValue(1440)
param caAuditOverlapMinutes int = 60

@description('CA_AUDIT_SERVICES: comma-separated loggedByService values whose audit events can be classic-policy changes (* = any).')
param caAuditServices string = 'Core Directory'

@description('CA_AUDIT_CATEGORIES: comma-separated audit categories that can hold classic-policy changes (* = any).')
param caAuditCategories string = 'Policy'

@description('CA_AUDIT_ACTIVITIES: comma-separated activity name=change pairs (change: added, modified, disabled, deleted).')
param caAuditActivities string = 'Add policy=added, Update policy=modified, Delete policy=deleted'

@description('CA_CLASSIC_NAME_PATTERNS: comma-separated case-insensitive glob patterns of classic MTD policy names; @partners = any MTD partner name, Mobile Threat Defense or MTD.')
param caClassicNamePatterns string = '@partners'

@description('CA_CLASSIC_POLICY_TYPE: optional Property=value|value marking a classic policy in an audit event (e.g. PolicyType=18). Empty: not used.')
param caClassicPolicyType string = ''

@description('CA_CLASSIC_DISABLED_WHEN: Property=value|value that, found in an update\'s new values and not its old ones, makes it a disable.')
param caClassicDisabledWhen string = 'State=Disabled'

// Connector settings drift (docs/drift.md).

@description('CONNECTOR_BASELINE: first-seen (a sweep adopts the settings of a connector it meets without a baseline) or explicit (only POST /api/connectors/{partner}/baseline or a configure write set one).')
@allowed([
  'first-seen'
  'explicit'
])
param connectorBaseline string = 'first-seen'

@description('CONNECTOR_DRIFT_ACTION: alert (a connectorDrift finding and an alert) or restore (the same, then the baseline is written back; needs connectorAccess=ReadWrite).')
@allowed([
  'alert'
  'restore'
])
param connectorDriftAction string = 'alert'

@description('CONNECTOR_AUDIT_EVENTS: true reads Intune\'s audit log (DeviceManagementApps.Read.All) for who changed a drifted connector; false never does.')
@allowed([
  'true'
  'false'
])
param connectorAuditEvents string = 'true'

@description('CONNECTOR_AUDIT_MATCH: comma-separated case-insensitive globs an Intune audit event\'s activity or resource type must match to be a change of a connector (unconfirmed what Intune logs).')
param connectorAuditMatch string = '*mobilethreatdefense*'

@description('ALERT_WEBHOOK_URL: https URL alerts are POSTed to as JSON. Empty: alerts stay in the outbox only. Its signing key is the Key Vault secret alert-webhook-secret.')
param alertWebhookUrl string = ''

// Alert delivery and channels (docs/alerts.md). Channel secrets are Key Vault secrets, never
// parameters: teams-webhook-url, servicenow-password, servicenow-client-secret, jira-api-token.
// A channel whose secret is not in the vault is simply off.

@description('ALERT_OUTBOX_SCHEDULE: NCRONTAB schedule of the alert outbox (retries with backoff, digests after quiet hours).')
param alertOutboxSchedule string = '0 */5 * * * *'

@description('ALERT_MAX_ATTEMPTS: attempts per alert and channel before it is dead-lettered (raising an alertDelivery finding).')
@minValue(1)
@maxValue(100)
param alertMaxAttempts int = 10

@description('ALERT_RETRY_BASE_MINUTES: a failed alert is retried on the next run, then after this many minutes, doubling up to 6 hours.')
@minValue(1)
@maxValue(360)
param alertRetryBaseMinutes int = 5

@description('ALERT_TIMEZONE: IANA time zone of the quiet hours, e.g. Europe/Berlin.')
param alertTimezone string = 'UTC'

@description('ALERT_WEBHOOK_MIN_SEVERITY: lowest severity that opens a conversation on the generic webhook; later alerts on the same finding always follow.')
@allowed([
  'high'
  'warning'
  'info'
])
param alertWebhookMinSeverity string = 'info'

@description('ALERT_WEBHOOK_KINDS: finding kinds sent to the generic webhook, * or a comma-separated list (heartbeat, graphAccess, alertDelivery, ...).')
param alertWebhookKinds string = '*'

@description('ALERT_WEBHOOK_QUIET_HOURS: daily window HH:MM-HH:MM (in alertTimezone) when info alerts to the generic webhook are held and then sent as one digest. Empty: none.')
param alertWebhookQuietHours string = ''

@description('TEAMS_MIN_SEVERITY: lowest severity that opens a conversation on Teams; later alerts on the same finding always follow.')
@allowed([
  'high'
  'warning'
  'info'
])
param teamsMinSeverity string = 'info'

@description('TEAMS_KINDS: finding kinds sent to Teams, * or a comma-separated list (heartbeat, graphAccess, alertDelivery, ...).')
param teamsKinds string = '*'

@description('TEAMS_QUIET_HOURS: daily window HH:MM-HH:MM (in alertTimezone) when info alerts to Teams are held and then sent as one digest. Empty: none.')
param teamsQuietHours string = ''

@description('SERVICENOW_INSTANCE_URL: ServiceNow instance such as https://contoso.service-now.com; set to open, work-note and resolve incidents. Empty: off.')
param serviceNowInstanceUrl string = ''

@description('SERVICENOW_USERNAME: integration user for basic auth (password: Key Vault secret servicenow-password).')
param serviceNowUsername string = ''

@description('SERVICENOW_CLIENT_ID: OAuth client id for the client credentials grant, used instead of basic auth when set (secret: servicenow-client-secret).')
param serviceNowClientId string = ''

@description('SERVICENOW_ASSIGNMENT_GROUP: assignment group (name or sys_id) of new incidents. Empty: the instance\'s assignment rules decide.')
param serviceNowAssignmentGroup string = ''

@description('SERVICENOW_CLOSE_CODE: resolution code set when a finding recovers (a choice of the incident close_code field).')
param serviceNowCloseCode string = 'Solution provided'

@description('SERVICENOW_EXTRA_FIELDS: more fields of new incidents as a JSON object, for instances whose data policies make them mandatory, e.g. {"caller_id": "mtd.guard", "category": "security"}. Empty: none.')
param serviceNowExtraFields string = ''

@description('SERVICENOW_MIN_SEVERITY: lowest severity that opens a conversation on ServiceNow; later alerts on the same finding always follow.')
@allowed([
  'high'
  'warning'
  'info'
])
param serviceNowMinSeverity string = 'warning'

@description('SERVICENOW_KINDS: finding kinds sent to ServiceNow, * or a comma-separated list (heartbeat, graphAccess, alertDelivery, ...).')
param serviceNowKinds string = '*'

@description('JIRA_BASE_URL: Jira Cloud site (https://contoso.atlassian.net), or https://api.atlassian.com/ex/jira/<cloudId> for a scoped API token (Key Vault secret jira-api-token). Empty: off.')
param jiraBaseUrl string = ''

@description('JIRA_EMAIL: Atlassian account email of the API token\'s owner.')
param jiraEmail string = ''

@description('JIRA_PROJECT_KEY: key of the project issues are created in, e.g. SEC.')
param jiraProjectKey string = ''

@description('JIRA_ISSUE_TYPE: issue type name of new issues.')
param jiraIssueType string = 'Task'

@description('JIRA_DONE_TRANSITION: name of the workflow transition applied when a finding recovers.')
param jiraDoneTransition string = 'Done'

@description('JIRA_RESOLUTION: resolution sent with the done transition when its screen has a Resolution field; not sent otherwise.')
param jiraResolution string = 'Done'

@description('JIRA_MIN_SEVERITY: lowest severity that opens a conversation on Jira; later alerts on the same finding always follow.')
@allowed([
  'high'
  'warning'
  'info'
])
param jiraMinSeverity string = 'warning'

@description('JIRA_KINDS: finding kinds sent to Jira, * or a comma-separated list (heartbeat, graphAccess, alertDelivery, ...).')
param jiraKinds string = '*'

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var appTags = union(tags, {
  'azd-service-name': 'api'
})

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-mtdguard-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-mtdguard-${resourceToken}'
    applicationInsightsName: 'appi-mtdguard-${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
    dailyQuotaGb: logDailyQuotaGb
  }
}

module watchdog 'modules/watchdog.bicep' = {
  name: 'watchdog'
  scope: rg
  params: {
    name: 'alert-mtdguard-heartbeat-${resourceToken}'
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    silenceHours: watchdogSilenceHours
    alertEmail: watchdogEmail
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'stmtd${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: 'app-package-${resourceToken}'
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-mtd-${resourceToken}'
    location: location
    tags: tags
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionInDays
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    appPrincipalId: identity.outputs.principalId
    deployerPrincipalId: principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

module graphPermissions 'modules/graph-permissions.bicep' = if (grantGraphPermissions) {
  name: 'graph-permissions'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    connectorAccess: connectorAccess
  }
}

// Secrets are Key Vault references (versionless: the latest version is picked up on restart or
// within 24 hours), never template parameters. Secret name = setting name, lower case, '-' for '_'.
var appSettings = {
  TENANT_ID: tenantId
  GRAPH_ENDPOINT: graphEndpoint
  GRAPH_API_VERSION: graphApiVersion
  HEARTBEAT_SCHEDULE: heartbeatSchedule
  DEFAULT_THRESHOLD_DAYS: string(defaultThresholdDays)
  EARLY_WARNING_HOURS: string(earlyWarningHours)
  HISTORY_RETENTION_DAYS: string(historyRetentionDays)
  GRAPH_TRANSIENT_GRACE_MINUTES: string(graphTransientGraceMinutes)
  PRUNE_SCHEDULE: pruneSchedule
  CA_DRIFT_SCHEDULE: caDriftSchedule
  CA_CLASSIC_SOURCE: caClassicSource
  AUDIT_LOG_RETENTION_DAYS: string(auditLogRetentionDays)
  CA_AUDIT_OVERLAP_MINUTES: string(caAuditOverlapMinutes)
  CA_AUDIT_SERVICES: caAuditServices
  CA_AUDIT_CATEGORIES: caAuditCategories
  CA_AUDIT_ACTIVITIES: caAuditActivities
  CA_CLASSIC_NAME_PATTERNS: caClassicNamePatterns
  CA_CLASSIC_POLICY_TYPE: caClassicPolicyType
  CA_CLASSIC_DISABLED_WHEN: caClassicDisabledWhen
  CONNECTOR_BASELINE: connectorBaseline
  CONNECTOR_DRIFT_ACTION: connectorDriftAction
  CONNECTOR_AUDIT_EVENTS: connectorAuditEvents
  CONNECTOR_AUDIT_MATCH: connectorAuditMatch
  REQUIRE_ENTRA_ROLE: enableEntraAuth ? 'true' : 'false'
  TIMER_BUDGET_SECONDS: string(timerBudgetSeconds)
  HTTP_BUDGET_SECONDS: string(httpBudgetSeconds)
  ALERT_WEBHOOK_URL: alertWebhookUrl
  ALERT_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.uri}secrets/alert-webhook-secret/)'
  ALERT_OUTBOX_SCHEDULE: alertOutboxSchedule
  ALERT_MAX_ATTEMPTS: string(alertMaxAttempts)
  ALERT_RETRY_BASE_MINUTES: string(alertRetryBaseMinutes)
  ALERT_TIMEZONE: alertTimezone
  ALERT_WEBHOOK_MIN_SEVERITY: alertWebhookMinSeverity
  ALERT_WEBHOOK_KINDS: alertWebhookKinds
  ALERT_WEBHOOK_QUIET_HOURS: alertWebhookQuietHours
  TEAMS_WEBHOOK_URL: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.uri}secrets/teams-webhook-url/)'
  TEAMS_MIN_SEVERITY: teamsMinSeverity
  TEAMS_KINDS: teamsKinds
  TEAMS_QUIET_HOURS: teamsQuietHours
  SERVICENOW_INSTANCE_URL: serviceNowInstanceUrl
  SERVICENOW_USERNAME: serviceNowUsername
  SERVICENOW_PASSWORD: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.uri}secrets/servicenow-password/)'
  SERVICENOW_CLIENT_ID: serviceNowClientId
  SERVICENOW_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.uri}secrets/servicenow-client-secret/)'
  SERVICENOW_ASSIGNMENT_GROUP: serviceNowAssignmentGroup
  SERVICENOW_CLOSE_CODE: serviceNowCloseCode
  SERVICENOW_EXTRA_FIELDS: serviceNowExtraFields
  SERVICENOW_MIN_SEVERITY: serviceNowMinSeverity
  SERVICENOW_KINDS: serviceNowKinds
  JIRA_BASE_URL: jiraBaseUrl
  JIRA_EMAIL: jiraEmail
  JIRA_API_TOKEN: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.uri}secrets/jira-api-token/)'
  JIRA_PROJECT_KEY: jiraProjectKey
  JIRA_ISSUE_TYPE: jiraIssueType
  JIRA_DONE_TRANSITION: jiraDoneTransition
  JIRA_RESOLUTION: jiraResolution
  JIRA_MIN_SEVERITY: jiraMinSeverity
  JIRA_KINDS: jiraKinds
  JIRA_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.uri}secrets/jira-webhook-secret/)'
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    name: 'func-mtdguard-${resourceToken}'
    planName: 'plan-mtdguard-${resourceToken}'
    location: location
    tags: tags
    appTags: appTags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    appSettings: appSettings
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    enableEntraAuth: enableEntraAuth
    authClientId: authClientId
    authExcludedPaths: authExcludedPaths
  }
  dependsOn: [
    rbac
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_URL string = 'https://${functionApp.outputs.defaultHostName}'
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output GRAPH_PERMISSIONS_GRANTED bool = grantGraphPermissions
