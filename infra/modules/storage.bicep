// Storage for the Functions host (timer leases, keys), the Flex deployment package and the app's own
// state tables. Secure by default: no shared keys (Entra ID only), HTTPS only, TLS 1.2, no public blobs.

@description('Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the account.')
param tags object

@description('Blob container the Flex Consumption plan deploys the app package to.')
param deploymentContainerName string

@description('The app\'s state tables (shared/store/rows.py: STATE_TABLE, HISTORY_TABLE, CHANGES_TABLE). Created here so a cold start never asks for them; the app re-creates one only if it vanished while running.')
var tableNames = [
  'mtdguardstate'
  'mtdguardhistory'
  'mtdguardchanges'
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_59: The Flex Consumption app runs without VNet integration by default and reaches storage over its public endpoint; access still needs an Entra token (shared keys are disabled). Private endpoints are an opt-in hardening documented in docs/deploy.md.
  // checkov:skip=CKV_AZURE_35: Same reason as CKV_AZURE_59: a default-deny firewall would lock out the Functions host, which is not a trusted Azure service and has no fixed outbound IP on Flex Consumption without a VNet.
  // checkov:skip=CKV_AZURE_206: Locally redundant storage is a cost choice with a known loss: host leases, the deployment package and connector state are rebuilt by a redeploy and the next sweep, but the audit trail (table mtdguardchanges) and the classic-policy baseline cannot be rebuilt and are lost with the account in a datacenter or region outage. Deployments that must keep them switch the account to Standard_ZRS or Standard_GZRS (docs/deploy.md).
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    isLocalUserEnabled: false
    isSftpEnabled: false
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

output id string = storage.id
output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
output deploymentContainerName string = deploymentContainer.name
