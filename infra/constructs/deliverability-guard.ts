import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member/index.js';
import { CloudSchedulerJob } from '@cdktf/provider-google/lib/cloud-scheduler-job/index.js';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function/index.js';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy/index.js';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member/index.js';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { SETTINGS } from '../../shared/config.js';
import { DELIVERABILITY_FUNCTION, breachLabels, GUARD_DATASET, GUARD_SETTINGS, deliverabilityEnv, type DeliverabilityConfig } from '../../shared/deliverability.js';
import { LOG_EVENTS } from '../../shared/log-events.js';
import { pipelineNames } from '../names.js';
import type { PipelineFunctions } from './functions.js';
import type { Warehouse } from './warehouse.js';

export interface DeliverabilityGuardProps {
  project: string;
  region: string;
  prefix: string;
  functions: PipelineFunctions;
  warehouse: Warehouse;
  deliverability: DeliverabilityConfig;
  /** Minutes between runs: divides an hour (shared/deliverability.ts checks). */
  intervalMinutes: number;
  /** The guard query's byte cap, in GB of 2^30 bytes. */
  maxGb: number;
  /** The alert channel (ALERT_EMAIL's); none without one. */
  notificationChannels: string[];
  /** Several Customer.io workspaces (CIO_WORKSPACES): a source is one workspace's, in the alerts too. */
  workspaces: boolean;
  dependsOn?: ITerraformDependable[];
}

/** A run reads one small window; far less than this, but a cold start loads BigQuery's client. */
export const GUARD_TIMEOUT_SECONDS = 120;
/** A breach that persists is notified again once a day, not every run. */
export const BREACH_RENOTIFY_SECONDS = 86_400;
/** A failing guard is notified again every hour while it keeps failing. */
export const FAILURE_RENOTIFY_SECONDS = 3_600;

/** The Cloud Scheduler schedule of a run every `minutes` (a divisor of 60), in UTC. */
export function guardSchedule(minutes: number): string {
  return minutes === 60 ? '0 * * * *' : `*/${minutes} * * * *`;
}

/**
 * The deliverability guard, deployed: a third target of the functions' bundle, private, which Cloud
 * Scheduler calls every DELIVERABILITY_GUARD_INTERVAL_MINUTES with an OIDC token; it runs the table
 * function over the window as a byte-capped BigQuery job and logs one entry per breach; log-match
 * alert policies turn those entries into notifications, one per source and measure a day at most.
 *
 * Least privilege: the guard's account may run BigQuery jobs in the project (the job is billed
 * there) and read the analysts' dataset — pseudonymized views and table functions, nothing raw —
 * and nothing else; the scheduler's account may only invoke the guard.
 */
export class DeliverabilityGuard extends Construct {
  readonly account: ServiceAccount;
  readonly invoker: ServiceAccount;
  readonly function: Cloudfunctions2Function;
  readonly job: CloudSchedulerJob;
  readonly alerts: MonitoringAlertPolicy[];

  constructor(scope: Construct, id: string, props: DeliverabilityGuardProps) {
    super(scope, id);
    const { project, region, prefix, functions, warehouse } = props;
    const names = pipelineNames(prefix);
    const account = (key: string, displayName: string) => new ServiceAccount(this, key, { project, accountId: `${prefix}-${key}`, displayName, dependsOn: props.dependsOn });
    this.account = account('guard', 'Deliverability guard: reads the analysts\' dataset');
    this.invoker = account('guard-invoker', 'Cloud Scheduler to the deliverability guard');

    const jobUser = new ProjectIamMember(this, 'guard-job-user', { project, role: 'roles/bigquery.jobUser', member: this.account.member });
    warehouse.grantAnalyticsReader(this.account.email);

    this.function = new Cloudfunctions2Function(this, 'guard-function', {
      project,
      location: region,
      name: names.guard,
      description: 'Judges complaint and bounce rates per message source; logs one entry per breach',
      buildConfig: functions.buildConfigFor('guard'),
      serviceConfig: {
        serviceAccountEmail: this.account.email,
        minInstanceCount: 0,
        // One run at a time is all there is to do.
        maxInstanceCount: 1,
        maxInstanceRequestConcurrency: 1,
        timeoutSeconds: GUARD_TIMEOUT_SECONDS,
        // Cloud Scheduler in the same project calling the run.app URL is internal traffic
        // ("Restricting ingress for Cloud Run"); IAM still checks its token.
        ingressSettings: 'ALLOW_INTERNAL_ONLY',
        availableCpu: '1',
        availableMemory: '512Mi',
        allTrafficOnLatestRevision: true,
        environmentVariables: {
          NODE_ENV: 'production',
          GOOGLE_CLOUD_PROJECT: project,
          LOG_LEVEL: SETTINGS.logLevel.default,
          [GUARD_DATASET.name]: names.analyticsDataset,
          [GUARD_SETTINGS.maxGb.name]: String(props.maxGb),
          ...deliverabilityEnv(props.deliverability),
          ...functions.workspacesEnv,
        },
      },
      dependsOn: [...functions.deployDependencies, jobUser],
    });

    const invoke = new CloudRunV2ServiceIamMember(this, 'guard-invoker-binding', {
      project,
      location: region,
      name: this.function.serviceConfig.service,
      role: 'roles/run.invoker',
      member: this.invoker.member,
    });
    const uri = this.function.serviceConfig.uri;
    const reads = warehouse.analyticsObjects[DELIVERABILITY_FUNCTION];
    this.job = new CloudSchedulerJob(this, 'guard-schedule', {
      project,
      region,
      name: names.guardJob,
      description: `Runs the deliverability guard (${names.guard}) every ${props.intervalMinutes} minutes`,
      schedule: guardSchedule(props.intervalMinutes),
      timeZone: 'Etc/UTC',
      // Past the function's own timeout, so a slow run ends as the function's answer.
      attemptDeadline: `${GUARD_TIMEOUT_SECONDS + 30}s`,
      // No retry_config: the API's default is no retry (RetryConfig.retryCount defaults to 0; the
      // block is optional in cloud_scheduler_job.html.markdown at v6.50.0), and the next run comes at
      // the next interval. attempt_deadline may be 15 s to 30 min for an HTTP target (same page).
      httpTarget: { uri, httpMethod: 'POST', oidcToken: { serviceAccountEmail: this.invoker.email, audience: uri } },
      // The first run finds the table function and its grant in place.
      dependsOn: [invoke, warehouse.analyticsDataset, ...(reads ? [reads] : [])],
      // With an OIDC token the API returns an Authorization header the job was not given; provider
      // 6.50.0 keeps it in state and would plan to remove it on every plan (fixed after 6.50.0 in
      // GoogleCloudPlatform/magic-modules#17074). The stack sets no header of its own.
      lifecycle: { ignoreChanges: ['http_target[0].headers'] },
    });

    const fromGuard = [`resource.type = "cloud_run_revision"`, `resource.labels.service_name = "${names.guard}"`];
    const label = (key: string) => `$\${log.extracted_label.${key}}`;
    const window = `${props.deliverability.windowHours} hours`;
    // With several workspaces the workspace is part of a source's identity: a label of its own (one
    // rule per workspace's source), and the first word of what the notification says.
    const inWorkspace = props.workspaces ? `${label('workspace')}: ` : '';
    const breachPolicy = (level: 'critical' | 'warning', severity: 'ERROR' | 'WARNING', policySeverity: 'CRITICAL' | 'WARNING') =>
      new MonitoringAlertPolicy(this, `${level}-breach-alert`, {
        project,
        displayName: `${prefix}: deliverability ${level}`,
        severity: policySeverity,
        combiner: 'OR',
        notificationChannels: props.notificationChannels,
        conditions: [{
          displayName: `deliverability ${level}: a source's rate at or above its ${level} threshold`,
          conditionMatchedLog: {
            filter: [...fromGuard, `jsonPayload.message = "${LOG_EVENTS.deliverabilityBreach}"`, `severity = ${severity}`].join(' AND '),
            // The source's identity, the measure and the threshold: stable while the breach lasts,
            // so each is one rule, notified once per period, however many runs log it.
            labelExtractors: Object.fromEntries(breachLabels(props.workspaces).map((key) => [key, `EXTRACT(jsonPayload.${key})`])),
          },
        }],
        // monitoring_alert_policy.html.markdown at v6.50.0: notification_rate_limit is required with
        // a log-match condition; each combination of label_extractors values is a rule of its own.
        alertStrategy: {
          notificationRateLimit: { period: `${BREACH_RENOTIFY_SECONDS}s` },
          // Closed once the guard has not logged the breach for two intervals (30 minutes at least).
          autoClose: `${Math.max(1800, 2 * props.intervalMinutes * 60)}s`,
          notificationPrompts: ['OPENED'],
        },
        documentation: {
          mimeType: 'text/markdown',
          subject: `${prefix} deliverability ${level}: ${inWorkspace}${label('source')} ${label('source_id')} ${label('measure')} rate at or above ${label('threshold')}`,
          content: [
            `**${inWorkspace}${label('source')} ${label('source_id')}** (action ${label('action_id')}, channel ${label('channel')}): its **${label('measure')} rate** over the last ${window} is at or above the ${level} threshold **${label('threshold')}**.`,
            '',
            'Complaint rate = spam complaints / delivered; bounce rate = bounces / sent. The log entries of this incident hold the rate, the counts and the window (`jsonPayload.summary`). Every source, worst first:',
            `\`npm run ops -- deliverability --project ${project} --prefix ${prefix}\``,
            '',
            level === 'critical'
              ? 'Pause the message in Customer.io before it sends more, then find the cause: a list or segment that was not opted in (complaints), stale or purchased addresses (bounces).'
              : 'Look before it becomes critical: the audience of this message, its list hygiene, its content and frequency.',
            '',
            `This notification repeats at most once a day while the breach lasts. Gmail sends no per-message complaints: Gmail recipients' complaints are not in this rate; see Google Postmaster Tools. Thresholds and minimum volumes: DELIVERABILITY_* settings.`,
          ].join('\n'),
        },
        dependsOn: props.dependsOn,
      });

    this.alerts = [
      breachPolicy('critical', 'ERROR', 'CRITICAL'),
      breachPolicy('warning', 'WARNING', 'WARNING'),
      new MonitoringAlertPolicy(this, 'guard-failure-alert', {
        project,
        displayName: `${prefix}: deliverability guard failing`,
        severity: 'ERROR',
        combiner: 'OR',
        notificationChannels: props.notificationChannels,
        conditions: [{
          displayName: 'deliverability guard could not read the warehouse',
          conditionMatchedLog: { filter: [...fromGuard, `jsonPayload.message = "${LOG_EVENTS.deliverabilityGuardFailed}"`].join(' AND ') },
        }],
        alertStrategy: { notificationRateLimit: { period: `${FAILURE_RENOTIFY_SECONDS}s` }, autoClose: `${Math.max(1800, 2 * props.intervalMinutes * 60)}s`, notificationPrompts: ['OPENED'] },
        documentation: {
          mimeType: 'text/markdown',
          subject: `${prefix}: the deliverability guard is failing`,
          content: [
            `The deliverability guard (\`${names.guard}\`) could not read \`${names.analyticsDataset}.${DELIVERABILITY_FUNCTION}\`; until it can, no deliverability alert is raised. The log entry's \`jsonPayload.error\` says why.`,
            '',
            `"Query exceeded limit for bytes billed": the window reads more than ${GUARD_SETTINGS.maxGb.name} (${props.maxGb} GB); raise it and deploy. "Access Denied": the guard's account lost its grant on the dataset; deploy again.`,
          ].join('\n'),
        },
        dependsOn: props.dependsOn,
      }),
    ];
  }
}
