// The watcher of the watcher: an Azure Monitor log search alert on MTD Guard's own Application
// Insights telemetry that fires when no heartbeat sweep has succeeded for silenceHours, routed to an
// action group that e-mails alertEmail (none when it is empty: the alert then shows in Azure Monitor
// only). Every successful timer run logs 'MTD Guard job succeeded: <job>' (functions/jobs.py
// SUCCESS_LOG), which reaches Application Insights as a trace; the rule counts those of the
// heartbeat job over the window and fires on none.

@description('Name of the alert rule; the action group is named after it.')
param name string

@description('Azure region of the alert rule (action groups are global).')
param location string

@description('Tags applied to both resources.')
param tags object

@description('Resource id of the app\'s Application Insights component: the rule queries its traces.')
param applicationInsightsId string

@description('Hours without a successful heartbeat sweep before the alert fires (window of the query).')
@minValue(1)
@maxValue(48)
param silenceHours int

@description('E-mail address the alert goes to; empty: no action group (the alert shows in Azure Monitor only).')
param alertEmail string

// The line functions/jobs.py SUCCESS_LOG writes for the heartbeat job (shared/job_runs.py Job.HEARTBEAT): change both together.
var successQuery = 'traces | where message == "MTD Guard job succeeded: heartbeatSweep"'

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-${name}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'mtdguard'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource rule 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: name
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'MTD Guard: no successful heartbeat sweep for ${silenceHours} h'
    description: 'No heartbeat sweep of MTD Guard succeeded in the last ${silenceHours} hours: MTD connectors are not being watched. Check the function app is running, its settings (GET /api/health) and its logs.'
    severity: 1
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT${silenceHours}H'
    criteria: {
      allOf: [
        {
          query: successQuery
          timeAggregation: 'Count'
          operator: 'LessThan'
          threshold: 1
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: empty(alertEmail) ? [] : [
        actionGroup.id
      ]
    }
  }
}

output ruleName string = rule.name
