// Key Vault for the app's secrets (webhook HMAC keys, signing keys). RBAC authorization only, soft
// delete + purge protection. The vault is created empty: secret VALUES are never template
// parameters; the operator sets them after deployment (docs/deploy.md).

@description('Name of the Key Vault (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the vault.')
param tags object

@description('Days a deleted vault and its secrets stay recoverable (7-90). Purge protection means the name stays reserved for this long after deletion.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_189: The Function App reads secrets over the vault's public endpoint (no VNet by default on Flex Consumption); every call needs an Entra token with the Key Vault Secrets User role. Private endpoints are an opt-in hardening documented in docs/deploy.md.
  // checkov:skip=CKV_AZURE_109: Same reason as CKV_AZURE_189: a default-deny firewall would block Key Vault reference resolution, since the app has no fixed outbound IP and is not a trusted Azure service.
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
