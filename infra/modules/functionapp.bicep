// Flex Consumption (FC1) plan + Python 3.11 Function App running as the user-assigned identity.
// App settings = the code's settings (passed in from main.bicep, one per entry of the
// shared/settings.py registry) + the platform settings below, which the Functions host and the
// Azure SDKs read (identity-based AzureWebJobsStorage, Application Insights with Entra auth).

@description('Name of the Function App.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region.')
param location string

@description('Tags for the plan.')
param tags object

@description('Tags for the Function App (adds azd-service-name so azd deploys the code here).')
param appTags object

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

@description('Blob endpoint of the storage account (https://<account>.blob.core.windows.net/).')
param blobEndpoint string

@description('Queue endpoint of the storage account.')
param queueEndpoint string

@description('Table endpoint of the storage account.')
param tableEndpoint string

@description('Blob container for the deployment package.')
param deploymentContainerName string

@description('Application Insights connection string (contains no secret: local auth is disabled).')
param applicationInsightsConnectionString string

@description('The code\'s own app settings, built in main.bicep from the settings registry.')
param appSettings object

@description('Largest number of instances the plan may scale out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB (512, 2048 or 4096); billing is per GB-second of this size.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Turn on App Service authentication (Easy Auth v2) with Microsoft Entra ID.')
param enableEntraAuth bool

@description('Application (client) id of the Entra app registration that represents the API (used when enableEntraAuth).')
param authClientId string

@description('Paths Easy Auth lets through without a token (the anonymous health probe, signed webhooks).')
param authExcludedPaths array

var platformSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: blobEndpoint
  AzureWebJobsStorage__queueServiceUri: queueEndpoint
  AzureWebJobsStorage__tableServiceUri: tableEndpoint
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: Zone redundancy on Flex Consumption keeps at least two always-ready instances billed around the clock and is offered only in some regions; a monitor that runs every 30 minutes tolerates a zone outage (the next run catches up).
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222: The API must be reachable by ticketing systems and operators without a VNet; every route except the health probe needs a function key or, with enableEntraAuth, an Entra token checked by App Service authentication.
  // checkov:skip=CKV_AZURE_17: Incoming client certificates would lock out callers that cannot present one (Jira Automation, ServiceNow outbound REST, browsers). Callers authenticate with a function key and, when enableEntraAuth is on, an Entra token; of the webhooks only Jira's can also be signed, and only when JIRA_WEBHOOK_SECRET is set.
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales from zero; always-ready instances for failover add a fixed monthly baseline for a job that runs every 30 minutes, and a missed run is caught up by the next one.
  // checkov:skip=CKV_AZURE_213: App Service health check is not available on the Flex Consumption plan; the anonymous /api/health route serves external probes instead.
  name: name
  location: location
  tags: appTags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    keyVaultReferenceIdentity: identityId
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      appSettings: [for setting in items(union(appSettings, platformSettings)): {
        name: setting.key
        value: setting.value
      }]
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// No FTP or SCM basic-auth publishing: azd deploys to Flex Consumption with an Entra token.
resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// Optional Entra ID authentication in front of the HTTP API. Callers present a token for
// api://<authClientId>; the app reads the roles claim (MtdGuard.Reader / MtdGuard.Operator) from
// the X-MS-CLIENT-PRINCIPAL header the platform adds. Excluded paths stay reachable without a token.
// Always deployed (switched by platform.enabled) so a redeploy with enableEntraAuth=false really
// turns it off, and so checkov evaluates it (it does not look inside conditional resources).
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  // checkov:skip=CKV_AZURE_13: App Service authentication is opt-in (enableEntraAuth, default false): it needs an Entra app registration this template does not create (docs/deploy.md). While it is off, every route but /api/health needs a function key, the audit trail names callers only as 'function key caller', and REQUIRE_ENTRA_ROLE=true without it makes the protected routes answer 503.
  // checkov:skip=CKV_AZURE_63: False positive: checkov applies its siteConfig ('web') checks to every Microsoft.Web/sites/config resource; this one is authsettingsV2 and has no logging properties.
  // checkov:skip=CKV_AZURE_65: False positive, same as CKV_AZURE_63: not a 'web' siteConfig resource.
  // checkov:skip=CKV_AZURE_66: False positive, same as CKV_AZURE_63: not a 'web' siteConfig resource.
  // checkov:skip=CKV_AZURE_80: False positive, same as CKV_AZURE_63; the app is Python, no .NET Framework is used.
  // checkov:skip=CKV_AZURE_88: False positive, same as CKV_AZURE_63; Flex Consumption apps have no Azure Files content share.
  // checkov:skip=CKV_AZURE_222: False positive, same as CKV_AZURE_63; public network access is a site property, decided (and skipped with its reason) on the site resource above.
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: enableEntraAuth
    }
    globalValidation: {
      requireAuthentication: enableEntraAuth
      unauthenticatedClientAction: enableEntraAuth ? 'Return401' : 'AllowAnonymous'
      excludedPaths: authExcludedPaths
    }
    httpSettings: {
      requireHttps: true
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
    identityProviders: enableEntraAuth ? {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
            authClientId
          ]
        }
      }
    } : {}
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
output planName string = plan.name
