// Microsoft Graph application permissions (app roles) for the Function App's managed identity.
// Isolated here because it needs the Microsoft Graph Bicep extension (bicepconfig.json) and an
// Entra role that Azure roles do not give: Privileged Role Administrator (or Global Administrator).
// main.bicep skips this module when grantGraphPermissions is false; docs/permissions.md gives the
// equivalent az rest / Microsoft Graph PowerShell commands.
//
// The role ids below must equal shared/permissions.py; tests/infra checks that they do.

extension microsoftGraphV1

@description('Object (principal) id of the managed identity\'s service principal.')
param principalId string

@description('ReadOnly: DeviceManagementServiceConfig.Read.All (monitoring only). ReadWrite: DeviceManagementServiceConfig.ReadWrite.All instead, needed by the optional configure API.')
@allowed([
  'ReadOnly'
  'ReadWrite'
])
param connectorAccess string

// Microsoft Graph's well-known application id (the same in every tenant).
var graphAppId = '00000003-0000-0000-c000-000000000000'

// Granted whatever connectorAccess is.
var alwaysGranted = [
  {
    // Conditional Access drift: directory audit log (policy add/update/delete events).
    name: 'AuditLog.Read.All'
    id: 'b0afded3-3588-46d8-8b3d-9842eff778da'
  }
  {
    // Conditional Access drift: Microsoft's reference for listing directory audits requires it
    // together with AuditLog.Read.All.
    name: 'Directory.Read.All'
    id: '7ab1d382-f21e-4acd-a863-ba3e13f7da61'
  }
  {
    // Conditional Access drift: read the Conditional Access policies that enforce MTD.
    name: 'Policy.Read.All'
    id: '246dd0d5-5bd0-4def-940b-0421030a5b68'
  }
  {
    // Enforcement chain: device compliance policies and their assignments (Device Threat Level rule).
    name: 'DeviceManagementConfiguration.Read.All'
    id: 'dc377aa6-52d8-4e23-b271-2a7ae04cedf3'
  }
  {
    // Enforcement chain: app protection policies (max allowed threat level); connector drift:
    // Intune's audit log, to say who changed a connector.
    name: 'DeviceManagementApps.Read.All'
    id: '7a6ee1e7-141e-4cec-ae74-d9db155731ff'
  }
]

// Exactly one of these, chosen by connectorAccess.
var connectorGrants = {
  ReadOnly: {
    // Heartbeat monitor and read API: list/get mobileThreatDefenseConnectors.
    name: 'DeviceManagementServiceConfig.Read.All'
    id: '06a5fe6d-c49d-46a7-b082-56b1b14103c7'
  }
  ReadWrite: {
    // Configure API: create/update/delete connectors (also covers everything Read.All does).
    name: 'DeviceManagementServiceConfig.ReadWrite.All'
    id: '5ac13192-7ace-4fcf-b828-1a26f28068ee'
  }
}

var granted = concat(alwaysGranted, [
  connectorGrants[connectorAccess]
])

resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: graphAppId
}

resource grants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [for role in granted: {
  principalId: principalId
  resourceId: graph.id
  appRoleId: role.id
}]

output grantedPermissions array = [for role in granted: role.name]
