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

@description('Grant the Microsoft Graph application permissions to the managed identity in this deployment. Needs the Privileged Role Administrator (or Global Administrator) Entra role; set false and run the README commands otherwise.')
param grantGraphPermissions bool = true

@description('Intune connector access: ReadOnly (monitoring; DeviceManagementServiceConfig.Read.All) or ReadWrite (also the configure API; DeviceManagementServiceConfig.ReadWrite.All).')
@allowed([
  'ReadOnly'
  'ReadWrite'
])
param connectorAccess string = 'ReadOnly'

@description('Put Microsoft Entra ID authentication (App Service authentication v2) in front of the HTTP API and set REQUIRE_ENTRA_ROLE=true, so callers also need the MtdGuard.Reader or MtdGuard.Operator app role. Needs authClientId. The two always go together: the role check trusts headers only Easy Auth can vouch for.')
param enableEntraAuth bool = false

@description('Application (client) id of the API app registration that defines the MtdGuard.Reader and MtdGuard.Operator app roles (README: Deploy to Azure). Used only when enableEntraAuth is true.')
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

@description('HISTORY_RETENTION_DAYS: how long every observation is kept in the history table.')
@minValue(1)
@maxValue(3650)
param historyRetentionDays int = 90

@description('ALERT_WEBHOOK_URL: https URL alerts are POSTed to as JSON. Empty: alerts stay in the outbox only. Its signing key is the Key Vault secret alert-webhook-secret.')
param alertWebhookUrl string = ''

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
  REQUIRE_ENTRA_ROLE: enableEntraAuth ? 'true' : 'false'
  ALERT_WEBHOOK_URL: alertWebhookUrl
  ALERT_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.uri}secrets/alert-webhook-secret/)'
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
