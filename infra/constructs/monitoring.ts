import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric/index.js';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy/index.js';
import { MonitoringDashboard } from '@cdktf/provider-google/lib/monitoring-dashboard/index.js';
import { MonitoringNotificationChannel } from '@cdktf/provider-google/lib/monitoring-notification-channel/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { LOG_EVENTS } from '../../shared/log-events.js';
import type { ReceiverAccess } from '../config.js';

export interface MonitoringProps {
  project: string;
  prefix: string;
  receiverService: string;
  handlerService: string;
  pushSubscription: string;
  bigquerySubscription: string;
  deadLetterSubscription: string;
  alertEmail: string | null;
  /** Several Customer.io workspaces (CIO_WORKSPACES): signature failures are counted per workspace too. */
  workspaces: boolean;
  /** RECEIVER_ACCESS: with no-invoker-check, the 403 alert says a deploy can fire it once. */
  receiverAccess: ReceiverAccess;
  dependsOn?: ITerraformDependable[];
}

const subscriptionMetric = (metric: string, subscription: string) =>
  `resource.type = "pubsub_subscription" AND resource.labels.subscription_id = "${subscription}" AND metric.type = "pubsub.googleapis.com/subscription/${metric}"`;

const runMetric = (metric: string, service: string) =>
  `resource.type = "cloud_run_revision" AND resource.labels.service_name = "${service}" AND metric.type = "run.googleapis.com/${metric}"`;

interface Series {
  filter: string;
  aligner: string;
  reducer?: string;
  groupBy?: string[];
  legend?: string;
}

function chart(title: string, series: Series[], plot: 'LINE' | 'STACKED_BAR' = 'LINE') {
  return {
    title,
    xyChart: {
      dataSets: series.map((s) => ({
        plotType: plot,
        legendTemplate: s.legend,
        timeSeriesQuery: {
          timeSeriesFilter: {
            filter: s.filter,
            aggregation: { alignmentPeriod: '60s', perSeriesAligner: s.aligner, crossSeriesReducer: s.reducer, groupByFields: s.groupBy },
          },
        },
      })),
    },
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };

/**
 * The dashboard JSON without the values the Monitoring API drops on the way back (proto3 omits
 * zero, empty and unset fields: `xPos: 0`, `legendTemplate: ""`, `groupByFields: []`). The provider
 * compares what it sent with what it reads, so every one of them would show as a change on every
 * plan: a dashboard that never converges.
 */
export function withoutDefaults(value: Json | undefined): Json | undefined {
  if (Array.isArray(value)) {
    const items = value.map(withoutDefaults).filter((v): v is Json => v !== undefined);
    return items.length === 0 ? undefined : items;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, withoutDefaults(v)] as const).filter(([, v]) => v !== undefined);
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  if (value === 0 || value === '' || value === false || value === null) return undefined;
  return value;
}

/**
 * Alerts for what stalls or loses the stream (dead letters, a handler backlog, signature failures —
 * a wrong key makes Customer.io hold back every later webhook) and a dashboard to look at first.
 */
export class PipelineMonitoring extends Construct {
  readonly dashboard: MonitoringDashboard;
  readonly signatureFailures: LoggingMetric;
  readonly handlerOutcomes: LoggingMetric;
  readonly alerts: MonitoringAlertPolicy[];
  /** The alert channel (ALERT_EMAIL's), for alerts defined beside what they watch. */
  readonly notificationChannels: string[];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { project, prefix } = props;
    const channels = props.alertEmail
      ? [new MonitoringNotificationChannel(this, 'email', { project, displayName: `${prefix} pipeline alerts`, type: 'email', labels: { email_address: props.alertEmail } }).name]
      : [];
    this.notificationChannels = channels;

    // With several workspaces, by workspace too (the path's; empty for a path that names none). Only
    // there: the Logging API adds a label to an existing metric in place, but provider 6.50.0 marks
    // metric_descriptor.labels.key ForceNew and would replace the metric of a deployed stack
    // (hashicorp/terraform-provider-google#14998), so a single-workspace stack's metric stays as it is.
    const signatureLabels = props.workspaces ? ['reason', 'workspace'] : ['reason'];
    this.signatureFailures = new LoggingMetric(this, 'signature-failures', {
      project,
      name: `${prefix}_signature_failures`,
      description: props.workspaces ? 'Webhooks rejected for their X-CIO-Signature, by reason and workspace' : 'Webhooks rejected for their X-CIO-Signature, by reason',
      filter: `resource.type = "cloud_run_revision" AND resource.labels.service_name = "${props.receiverService}" AND jsonPayload.message = "${LOG_EVENTS.signatureRejected}"`,
      metricDescriptor: { metricKind: 'DELTA', valueType: 'INT64', labels: signatureLabels.map((key) => ({ key, valueType: 'STRING' })) },
      labelExtractors: Object.fromEntries(signatureLabels.map((key) => [key, `EXTRACT(jsonPayload.${key})`])),
      dependsOn: props.dependsOn,
    });
    this.handlerOutcomes = new LoggingMetric(this, 'handler-outcomes', {
      project,
      name: `${prefix}_handler_outcomes`,
      description: 'Events handled, by outcome (done, duplicate, no-action, retry, permanent-failure)',
      filter: `resource.type = "cloud_run_revision" AND resource.labels.service_name = "${props.handlerService}" AND jsonPayload.message = "${LOG_EVENTS.eventHandled}"`,
      metricDescriptor: { metricKind: 'DELTA', valueType: 'INT64', labels: [{ key: 'outcome', valueType: 'STRING' }, { key: 'metric', valueType: 'STRING' }] },
      labelExtractors: { outcome: 'EXTRACT(jsonPayload.outcome)', metric: 'EXTRACT(jsonPayload.metric)' },
      dependsOn: props.dependsOn,
    });

    const alert = (key: string, displayName: string, documentation: string, filter: string, threshold: number, duration: string, aligner: string, reducer?: string) =>
      new MonitoringAlertPolicy(this, key, {
        project,
        displayName: `${prefix}: ${displayName}`,
        combiner: 'OR',
        notificationChannels: channels,
        documentation: { content: documentation, mimeType: 'text/markdown' },
        conditions: [{
          displayName,
          conditionThreshold: {
            filter,
            comparison: 'COMPARISON_GT',
            thresholdValue: threshold,
            duration,
            aggregations: [{ alignmentPeriod: '300s', perSeriesAligner: aligner, ...(reducer ? { crossSeriesReducer: reducer } : {}) }],
          },
        }],
        dependsOn: props.dependsOn,
      });

    this.alerts = [
      alert(
        'dead-letter-alert',
        'dead-lettered events',
        `Events gave up after the maximum delivery attempts and wait in \`${props.deadLetterSubscription}\`. Inspect with \`npm run ops -- dlq show\`, fix the cause, then \`npm run ops -- dlq redrive\`.`,
        subscriptionMetric('num_undelivered_messages', props.deadLetterSubscription),
        0,
        '0s',
        'ALIGN_MAX',
      ),
      alert(
        'handler-backlog-alert',
        'handler falling behind',
        `The oldest unacknowledged event on \`${props.pushSubscription}\` is over 15 minutes old: Customer.io calls are failing or throttled. Check the handler logs (outcome = retry).`,
        subscriptionMetric('oldest_unacked_message_age', props.pushSubscription),
        900,
        '300s',
        'ALIGN_MAX',
      ),
      alert(
        'warehouse-backlog-alert',
        'BigQuery subscription falling behind',
        `The oldest unwritten event on \`${props.bigquerySubscription}\` is over 30 minutes old: check the table schema and the service agent's grants.`,
        subscriptionMetric('oldest_unacked_message_age', props.bigquerySubscription),
        1800,
        '300s',
        'ALIGN_MAX',
      ),
      // On Cloud Run's own request metric, which always exists: an alert on the log-based metric
      // created in the same apply fails for up to ten minutes ("Cannot find metric(s)",
      // terraform-provider-google#11102). The receiver answers 401 only for signature failures;
      // the dashboard breaks them down by reason from the log-based metric.
      alert(
        'signature-failure-alert',
        'webhook signature failures',
        props.workspaces
          ? `The receiver rejects webhooks for their signature (HTTP 401). A wrong or rotated signing key makes Customer.io retry and hold back every later webhook of that workspace: the dashboard shows the reasons and the workspace; compare the key of that workspace's reporting webhook in Customer.io with its secret, \`${prefix}-<workspace>-webhook-signing-keys\`.`
          : 'The receiver rejects webhooks for their signature (HTTP 401). A wrong or rotated signing key makes Customer.io retry and hold back every later webhook: compare the key in Customer.io with the signing-keys secret. The dashboard shows the reasons.',
        `${runMetric('request_count', props.receiverService)} AND metric.labels.response_code = "401"`,
        3,
        '0s',
        'ALIGN_SUM',
        'REDUCE_SUM',
      ),
      // With several workspaces the receiver answers 404 to a POST whose path names none: a webhook
      // left on the old URL after a switch, or a mistyped one. Customer.io then holds back that
      // webhook's later deliveries, as after a 401.
      ...(props.workspaces
        ? [alert(
          'unknown-path-alert',
          'webhooks to no workspace\'s path (HTTP 404)',
          'The receiver answers 404 to webhooks whose path names no workspace in `CIO_WORKSPACES`: a reporting webhook still on the receiver\'s bare URL or an old one, or a mistyped path. Customer.io holds back that webhook\'s later deliveries until it is answered 2xx. Set each webhook\'s endpoint to its entry of the `workspace_urls` output (docs/workspaces.md).',
          `${runMetric('request_count', props.receiverService)} AND metric.labels.response_code = "404"`,
          3,
          '0s',
          'ALIGN_SUM',
          'REDUCE_SUM',
        )]
        : []),
      // Cloud Run refuses a caller before the function runs (the invoker check on again after Google
      // redeployed the service, or the public invoker binding removed): those requests never reach the
      // container, so they are matched in Cloud Run's request log, not in its request metric.
      new MonitoringAlertPolicy(this, 'receiver-refused-alert', {
        project,
        displayName: `${prefix}: receiver refusing callers (HTTP 403)`,
        severity: 'CRITICAL',
        combiner: 'OR',
        notificationChannels: channels,
        conditions: [{
          displayName: 'Cloud Run answered 403 on the receiver',
          conditionMatchedLog: {
            filter: `resource.type = "cloud_run_revision" AND resource.labels.service_name = "${props.receiverService}" AND log_id("run.googleapis.com/requests") AND httpRequest.status = 403`,
          },
        }],
        // A log-match condition requires a notification rate limit (alert_policy docs at v6.50.0).
        alertStrategy: { notificationRateLimit: { period: '3600s' }, autoClose: '1800s' },
        documentation: {
          mimeType: 'text/markdown',
          content: `Cloud Run answers 403 on \`${props.receiverService}\` before the receiver runs, so Customer.io's webhooks are refused and it holds back every later one. \`npm run ops -- doctor\` says why (the invoker check on again, or the public invoker binding gone) and the command that fixes it; \`npm run ops -- invoker-check off\` turns the check off.${props.receiverAccess === 'no-invoker-check' ? ' A deploy that updates the receiver can fire this once: Cloud Functions deploys the service again with the check on, until the deploy\'s next step turns it off (seconds later); when \`npm run ops -- invoker-check show\` says off, nothing more is to be done.' : ''}`,
        },
        dependsOn: props.dependsOn,
      }),
    ];

    const logMetric = (name: string) => `resource.type = "cloud_run_revision" AND metric.type = "logging.googleapis.com/user/${name}"`;
    this.dashboard = new MonitoringDashboard(this, 'dashboard', {
      project,
      dashboardJson: JSON.stringify(withoutDefaults({
        displayName: `Customer.io webhooks (${prefix})`,
        mosaicLayout: {
          columns: 12,
          tiles: [
            chart('Receiver requests by status', [{ filter: runMetric('request_count', props.receiverService), aligner: 'ALIGN_RATE', reducer: 'REDUCE_SUM', groupBy: ['metric.label.response_code_class'] }], 'STACKED_BAR'),
            chart(props.workspaces ? 'Signature failures by reason and workspace' : 'Signature failures by reason', [{ filter: logMetric(`${prefix}_signature_failures`), aligner: 'ALIGN_RATE', reducer: 'REDUCE_SUM', groupBy: signatureLabels.map((key) => `metric.label.${key}`) }], 'STACKED_BAR'),
            chart('Receiver latency (p50, p99)', [
              { filter: runMetric('request_latencies', props.receiverService), aligner: 'ALIGN_PERCENTILE_50', reducer: 'REDUCE_MEAN', legend: 'p50' },
              { filter: runMetric('request_latencies', props.receiverService), aligner: 'ALIGN_PERCENTILE_99', reducer: 'REDUCE_MAX', legend: 'p99' },
            ]),
            chart('Handler outcomes', [{ filter: logMetric(`${prefix}_handler_outcomes`), aligner: 'ALIGN_RATE', reducer: 'REDUCE_SUM', groupBy: ['metric.label.outcome'] }], 'STACKED_BAR'),
            chart('Backlogs (undelivered messages)', [
              { filter: subscriptionMetric('num_undelivered_messages', props.pushSubscription), aligner: 'ALIGN_MAX', legend: 'handler push' },
              { filter: subscriptionMetric('num_undelivered_messages', props.deadLetterSubscription), aligner: 'ALIGN_MAX', legend: 'dead letter' },
            ]),
            chart('BigQuery subscription', [
              { filter: subscriptionMetric('num_undelivered_messages', props.bigquerySubscription), aligner: 'ALIGN_MAX', legend: 'unwritten rows' },
              { filter: subscriptionMetric('oldest_unacked_message_age', props.bigquerySubscription), aligner: 'ALIGN_MAX', legend: 'oldest unwritten (s)' },
            ]),
          ].map((widget, i) => ({ xPos: (i % 2) * 6, yPos: Math.floor(i / 2) * 4, width: 6, height: 4, widget })),
        },
      })),
      dependsOn: [this.signatureFailures, this.handlerOutcomes],
    });
  }
}
