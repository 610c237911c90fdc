/**
 * Several Customer.io workspaces in one stack (CIO_WORKSPACES), on the synthesized Terraform JSON:
 * each workspace's secrets and who may read them, what the functions are told, the URLs to paste
 * into Customer.io, and the two upgrade promises — a single-workspace stack keeps every name and
 * address it has, and adding a workspace changes nothing of another workspace's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { HANDLER_VARIABLES, RECEIVER_VARIABLES, SETTINGS } from '../../shared/config.js';
import { BREACH_LABELS } from '../../shared/deliverability.js';
import { workspaceVariable } from '../../shared/workspaces.js';
import { type Resource, type Synth, addressed, all, dependenciesOf, named, one, refTo, synth } from '../support/synth.js';

type Fn = Resource & { service_config: { environment_variables: Record<string, string> } };
const fn = (s: Synth, name: string) => one(s, 'google_cloudfunctions2_function', named(name)) as Fn;
const env = (s: Synth, name: string) => fn(s, name).service_config.environment_variables;

/** The secrets each service account may read, by secret id. */
function readers(s: Synth): Record<string, string[]> {
  const accountOf = Object.fromEntries(Object.entries(s.resource.google_service_account!).map(([key, r]) => [`\${google_service_account.${key}.member}`, String(r.account_id)]));
  const secretOf = Object.fromEntries(Object.entries(s.resource.google_secret_manager_secret!).map(([key, r]) => [`\${google_secret_manager_secret.${key}.secret_id}`, String(r.secret_id)]));
  const access: Record<string, string[]> = {};
  for (const grant of all(s, 'google_secret_manager_secret_iam_member')) {
    expect(grant.role).toBe('roles/secretmanager.secretAccessor');
    (access[accountOf[String(grant.member)] ?? String(grant.member)] ??= []).push(secretOf[String(grant.secret_id)] ?? String(grant.secret_id));
  }
  return Object.fromEntries(Object.entries(access).map(([account, secrets]) => [account, secrets.sort()]));
}

/** `${<address>.id}`: how a function's variable names a secret. */
const secretIdRef = (s: Synth, secretId: string) => `\${${refTo(s, 'google_secret_manager_secret', (r) => r.secret_id === secretId)}.id}`;

/**
 * Every resource of a one-workspace stack, by address: those the version before workspaces (0906d37)
 * synthesized, under the same addresses, and the ones added since (the receiver-refused alert). An
 * address is what Terraform keys its state by: a renamed construct is a new address, so the plan
 * would destroy one resource and create another (a secret with its versions, the events table with
 * its rows). Adding, removing or renaming a resource changes this list, knowingly.
 */
const SINGLE_WORKSPACE_ADDRESSES: Record<string, string[]> = {
  google_artifact_registry_repository: ['functions_repository_B1FDEA22'],
  google_artifact_registry_repository_iam_member: ['functions_build-repository-writer_B46B531A'],
  google_bigquery_dataset: ['warehouse_analytics-dataset_70D796A4', 'warehouse_dataset_7B04CF12'],
  google_bigquery_job: ['warehouse_pseudonym-key_load_ADBBD134'],
  google_bigquery_routine: ['warehouse_analytics-deliverability_between_9FE05423',
    'warehouse_analytics-events_unique_between_43AA933C', 'warehouse_analytics-funnel_between_51DD02F6',
    'warehouse_deliverability_between_B7011DE2', 'warehouse_events_unique_between_CEA52257',
    'warehouse_funnel_between_F0A13490'],
  google_bigquery_table: ['warehouse_analytics-daily_funnel_7C5F25FD', 'warehouse_analytics-events_5357684F',
    'warehouse_analytics-events_unique_3FE8D5FA', 'warehouse_daily_funnel_644E7BAE', 'warehouse_events_97D6D137',
    'warehouse_events_unique_92EC6C32', 'warehouse_pseudonym-key_table_B4B92A64'],
  google_bigquery_table_iam_member: ['warehouse_agent-dataEditor_DDFD3075', 'warehouse_agent-metadataViewer_F5D12C98'],
  google_cloud_run_v2_service_iam_member: ['deliverability-guard_guard-invoker-binding_E26F596D',
    'functions_handler-invoker_48C72B19', 'functions_receiver-public_86B0815F'],
  google_cloud_scheduler_job: ['deliverability-guard_guard-schedule_81E345A9'],
  google_cloudfunctions2_function: ['deliverability-guard_guard-function_87E3DE43',
    'functions_handler-function_40793EF7', 'functions_receiver-function_2EE594BA'],
  google_firestore_database: ['dedupe-store_database_2315C71F'],
  google_firestore_field: ['dedupe-store_expire-at-ttl_C6E71462'],
  google_logging_metric: ['monitoring_handler-outcomes_6E72738A', 'monitoring_signature-failures_4F51677C'],
  google_monitoring_alert_policy: ['deliverability-guard_critical-breach-alert_4413847B',
    'deliverability-guard_guard-failure-alert_99FD5FD9', 'deliverability-guard_warning-breach-alert_C145C43F',
    'monitoring_dead-letter-alert_EC4F611F', 'monitoring_handler-backlog-alert_BC0044F9',
    'monitoring_receiver-refused-alert_82AEAA67', 'monitoring_signature-failure-alert_3C0634A0',
    'monitoring_warehouse-backlog-alert_4FFADED3'],
  google_monitoring_dashboard: ['monitoring_dashboard_4CE328EF'],
  google_project_iam_member: ['dedupe-store_handler-firestore_11B93AD8', 'deliverability-guard_guard-job-user_B4AD9620',
    'functions_build-logWriter_4F4DCCFC', 'functions_build-objectAdmin_85F66108'],
  google_project_service: ['services_artifactregistry_D789ABF9', 'services_bigquery_60352954',
    'services_cloudbuild_06D9577E', 'services_cloudfunctions_E3C9B347', 'services_cloudresourcemanager_41AD0F72',
    'services_cloudscheduler_B50BDD62', 'services_firestore_8C73389B', 'services_iam_A6C3E2C4',
    'services_logging_A036A0D9', 'services_monitoring_8DF8D3D0', 'services_pubsub_7A9697F1', 'services_run_3386E5B9',
    'services_secretmanager_C625173F', 'services_serviceusage_913C7D4D', 'services_storage_22AEC1BC'],
  google_project_service_identity: ['services_pubsub-agent_5CBAFC49'],
  google_pubsub_subscription: ['event-bus_dead-letter-subscription_97A6B57E', 'push_replay-subscription_BE8DD4FD',
    'push_subscription_C72D4160', 'warehouse_bigquery-subscription_8B4AC389'],
  google_pubsub_subscription_iam_member: ['agent-bigquery-subscriber', 'agent-push-subscriber',
    'agent-replay-subscriber'],
  google_pubsub_topic: ['event-bus_dead-letter_AFF4C5E6', 'event-bus_events_FAE2205C', 'event-bus_replay_80A110FA'],
  google_pubsub_topic_iam_member: ['agent-dlq-publisher', 'functions_receiver-publisher_8F5E87AC'],
  google_secret_manager_secret: ['secrets_pseudonym-key_88EFDD3B', 'secrets_signing-keys_7EB6B863',
    'secrets_site-id_796EC6BE', 'secrets_track-api-key_158B8049'],
  google_secret_manager_secret_iam_member: ['functions_handler-pseudonym-key_9C2975FA',
    'functions_handler-site-id_AF1196C4', 'functions_handler-track-api-key_47E7AFC4',
    'functions_receiver-signing-keys_DE5D633F'],
  google_secret_manager_secret_version: ['secrets_pseudonym-key-version_A9E34E16'],
  google_service_account: ['deliverability-guard_32A8A069', 'deliverability-guard_guard-invoker_44DABD6D',
    'functions_build_B7E27AFF', 'functions_handler_712A3DAF', 'functions_push-invoker_0AB6625D',
    'functions_receiver_24375A18'],
  google_service_account_iam_member: ['push_agent-token-creator_E37E41DA'],
  google_storage_bucket: ['functions_source_3D6FE6F9', 'warehouse_pseudonym-key_bucket_C205D613'],
  google_storage_bucket_iam_policy: ['warehouse_pseudonym-key_bucket-policy_35F171E9'],
  google_storage_bucket_object: ['functions_bundle-object_71847400', 'warehouse_pseudonym-key_object_FE67D9EC'],
  random_bytes: ['pseudonym_key'],
  time_sleep: ['functions_build-grants-propagated_74E94704', 'warehouse_agent-grants-propagated_2D65F87B'],
};

/** The events table's columns (name, type, mode) before workspaces, in table order. */
const EVENTS_COLUMNS_BEFORE_WORKSPACES: Array<[string, string, string]> = [
  ['event_id', 'STRING', 'REQUIRED'], ['object_type', 'STRING', 'NULLABLE'], ['metric', 'STRING', 'NULLABLE'],
  ['event_timestamp', 'TIMESTAMP', 'NULLABLE'], ['received_at', 'TIMESTAMP', 'NULLABLE'],
  ['customer_id', 'STRING', 'NULLABLE'], ['cio_id', 'STRING', 'NULLABLE'], ['email', 'STRING', 'NULLABLE'],
  ['recipient', 'STRING', 'NULLABLE'], ['delivery_id', 'STRING', 'NULLABLE'], ['journey_id', 'STRING', 'NULLABLE'],
  ['trigger_event_id', 'STRING', 'NULLABLE'], ['campaign_id', 'INT64', 'NULLABLE'], ['action_id', 'INT64', 'NULLABLE'],
  ['parent_action_id', 'INT64', 'NULLABLE'], ['broadcast_id', 'INT64', 'NULLABLE'],
  ['trigger_id', 'INT64', 'NULLABLE'], ['newsletter_id', 'INT64', 'NULLABLE'], ['content_id', 'INT64', 'NULLABLE'],
  ['transactional_message_id', 'INT64', 'NULLABLE'], ['link_id', 'INT64', 'NULLABLE'],
  ['subject', 'STRING', 'NULLABLE'], ['href', 'STRING', 'NULLABLE'], ['failure_message', 'STRING', 'NULLABLE'],
  ['machine', 'BOOL', 'NULLABLE'], ['proxied', 'BOOL', 'NULLABLE'], ['prefetched', 'BOOL', 'NULLABLE'],
  ['synthetic', 'BOOL', 'NULLABLE'], ['payload', 'STRING', 'NULLABLE'], ['subscription_name', 'STRING', 'NULLABLE'],
  ['message_id', 'STRING', 'NULLABLE'], ['publish_time', 'TIMESTAMP', 'NULLABLE'],
  ['attributes', 'STRING', 'NULLABLE']
];

let single: Synth;
let multi: Synth;
beforeAll(() => {
  single = synth();
  multi = synth({ CIO_WORKSPACES: 'acme,beta:eu' });
});

describe('one workspace (CIO_WORKSPACES unset): what a deployed stack has, under the same names and addresses', () => {
  it('keeps the three secrets, their grants and the functions at the addresses a deployed stack holds them', () => {
    // Pinned from a synth of the stack before workspaces existed: a new address would be a destroy
    // and a create of the operator's secrets (and their versions) or of a function.
    const addresses = (type: string) => Object.keys(single.resource[type] ?? {}).sort();
    expect(addresses('google_secret_manager_secret')).toEqual(['secrets_pseudonym-key_88EFDD3B', 'secrets_signing-keys_7EB6B863', 'secrets_site-id_796EC6BE', 'secrets_track-api-key_158B8049']);
    expect(addresses('google_secret_manager_secret_iam_member')).toEqual(['functions_handler-pseudonym-key_9C2975FA', 'functions_handler-site-id_AF1196C4', 'functions_handler-track-api-key_47E7AFC4', 'functions_receiver-signing-keys_DE5D633F']);
    expect(addresses('google_cloudfunctions2_function')).toEqual(['deliverability-guard_guard-function_87E3DE43', 'functions_handler-function_40793EF7', 'functions_receiver-function_2EE594BA']);
    expect(addresses('google_logging_metric')).toEqual(['monitoring_handler-outcomes_6E72738A', 'monitoring_signature-failures_4F51677C']);
    expect(single.resource.google_secret_manager_secret!['secrets_signing-keys_7EB6B863']).toMatchObject({ secret_id: 'cio-webhook-signing-keys', replication: { auto: {} } });
    expect(single.resource.google_secret_manager_secret!['secrets_site-id_796EC6BE']).toMatchObject({ secret_id: 'cio-track-site-id' });
    expect(single.resource.google_secret_manager_secret!['secrets_track-api-key_158B8049']).toMatchObject({ secret_id: 'cio-track-api-key' });
    expect(single.resource.google_secret_manager_secret_iam_member!['functions_receiver-signing-keys_DE5D633F']).toEqual({
      member: '${google_service_account.functions_receiver_24375A18.member}',
      project: 'acme-prod-1',
      role: 'roles/secretmanager.secretAccessor',
      secret_id: '${google_secret_manager_secret.secrets_signing-keys_7EB6B863.secret_id}',
    });
  });

  it('has exactly the listed addresses: every one it had before workspaces, and the resources added since', () => {
    const expected = Object.entries(SINGLE_WORKSPACE_ADDRESSES).flatMap(([type, keys]) => keys.map((key) => `${type}.${key}`));
    expect(addressed(single).map(([address]) => address).sort()).toEqual(expected.sort());
  });

  it('adds one column to the events table, workspace, last and NULLABLE: an in-place update, the table and its rows kept', () => {
    // The provider (google/services/bigquery/resource_bigquery_table.go at v6.50.0,
    // resourceBigQueryTableSchemaIsChangeable) replaces the table for a new REQUIRED column, a
    // changed type, a mode change other than REQUIRED to NULLABLE, or a rename (a drop with an
    // add); a new NULLABLE column is an update. The new column goes last: BigQuery appends added
    // columns, so the table's order stays the schema's order.
    const table = single.resource.google_bigquery_table!['warehouse_events_97D6D137']!;
    const schema = JSON.parse(String(table.schema)) as Array<Record<string, unknown>>;
    expect(schema.map(({ name, type, mode }) => [name, type, mode])).toEqual([...EVENTS_COLUMNS_BEFORE_WORKSPACES, ['workspace', 'STRING', 'NULLABLE']]);
    for (const column of schema) expect(Object.keys(column).sort(), String(column.name)).toEqual(['description', 'mode', 'name', 'type']);
    // Several workspaces write the same table.
    expect(multi.resource.google_bigquery_table!['warehouse_events_97D6D137']!.schema).toBe(table.schema);
    // The column is there before the code that writes it: with drop_unknown_fields, the BigQuery
    // subscription would otherwise drop the field silently until the table caught up.
    expect(dependenciesOf(single, 'google_cloudfunctions2_function.functions_receiver-function_2EE594BA')).toContain('google_bigquery_table.warehouse_events_97D6D137');
  });

  it('tells the functions what it told them before: the unsuffixed variables, CIO_REGION and CIO_TRACK_URL, no CIO_WORKSPACES', () => {
    for (const name of ['cio-receiver', 'cio-handler', 'cio-guard']) expect(Object.keys(env(single, name)).filter((k) => k.includes('__') || k === 'CIO_WORKSPACES'), name).toEqual([]);
    expect(env(single, 'cio-receiver').CIO_WEBHOOK_SIGNING_KEYS_SECRET).toBe(secretIdRef(single, 'cio-webhook-signing-keys'));
    expect(env(single, 'cio-handler')).toMatchObject({
      CIO_SITE_ID_SECRET: secretIdRef(single, 'cio-track-site-id'),
      CIO_TRACK_API_KEY_SECRET: secretIdRef(single, 'cio-track-api-key'),
      CIO_REGION: 'us',
      CIO_TRACK_URL: 'https://track.customer.io/api/v1',
    });
  });

  it('keeps the signature-failure metric, the breach alerts and the outputs as they were', () => {
    expect(one(single, 'google_logging_metric', named('cio_signature_failures'))).toMatchObject({
      metric_descriptor: { labels: [{ key: 'reason', value_type: 'STRING' }] },
      label_extractors: { reason: 'EXTRACT(jsonPayload.reason)' },
    });
    const breachPolicies = all(single, 'google_monitoring_alert_policy').filter((p) => /deliverability (critical|warning)$/.test(String(p.display_name)));
    expect(breachPolicies).toHaveLength(2);
    for (const policy of breachPolicies) {
      const extractors = (policy.conditions as Array<{ condition_matched_log: { label_extractors: Record<string, string> } }>)[0]!.condition_matched_log.label_extractors;
      expect(Object.keys(extractors).sort()).toEqual([...BREACH_LABELS].sort());
      expect((policy.documentation as { subject: string }).subject).not.toContain('workspace');
    }
    expect(single.output.receiver_url).toEqual({ value: `\${${refTo(single, 'google_cloudfunctions2_function', named('cio-receiver'))}.service_config[0].uri}`, description: 'Paste into Customer.io: Reporting Webhooks > URL' });
    expect(Object.keys(single.output)).not.toContain('workspace_urls');
    expect(Object.keys(single.output)).toContain('signing_keys_secret');
  });
});

describe('several workspaces (CIO_WORKSPACES=acme,beta:eu)', () => {
  it('creates each workspace\'s three secrets, with no version, and none of the single-workspace names', () => {
    expect(all(multi, 'google_secret_manager_secret').map((r) => r.secret_id).sort()).toEqual([
      'cio-acme-track-api-key', 'cio-acme-track-site-id', 'cio-acme-webhook-signing-keys',
      'cio-beta-track-api-key', 'cio-beta-track-site-id', 'cio-beta-webhook-signing-keys',
      'cio-pseudonym-key',
    ]);
    // The operator's values alone: the only version Terraform holds is the generated pseudonym key's.
    expect(all(multi, 'google_secret_manager_secret_version').map((v) => v.secret)).toEqual([expect.stringContaining('secrets_pseudonym-key')]);
    expect(Object.keys(multi.resource.google_secret_manager_secret!).filter((key) => key.includes('workspace-')).every((key) => /^secrets_workspace-(acme|beta)_/.test(key))).toBe(true);
  });

  it('lets each account read exactly its workspaces\' secrets: the receiver the signing keys, the handler the Track API credentials', () => {
    expect(readers(multi)).toEqual({
      'cio-receiver': ['cio-acme-webhook-signing-keys', 'cio-beta-webhook-signing-keys'],
      'cio-handler': ['cio-acme-track-api-key', 'cio-acme-track-site-id', 'cio-beta-track-api-key', 'cio-beta-track-site-id', 'cio-pseudonym-key'],
    });
    expect(readers(single)).toEqual({
      'cio-receiver': ['cio-webhook-signing-keys'],
      'cio-handler': ['cio-pseudonym-key', 'cio-track-api-key', 'cio-track-site-id'],
    });
    // A function deploys after the grants on every secret it is told to read.
    const receiverWaits = fn(multi, 'cio-receiver').depends_on ?? [];
    for (const ws of ['acme', 'beta']) {
      expect(receiverWaits).toContain(refTo(multi, 'google_secret_manager_secret_iam_member', (r) => String(r.secret_id).includes(`secrets_workspace-${ws}_signing-keys`)));
      expect(fn(multi, 'cio-handler').depends_on).toContain(refTo(multi, 'google_secret_manager_secret_iam_member', (r) => String(r.secret_id).includes(`secrets_workspace-${ws}_track-api-key`)));
    }
  });

  it('tells the functions CIO_WORKSPACES with every region spelled out, and each workspace\'s secret in its own variable', () => {
    for (const name of ['cio-receiver', 'cio-handler', 'cio-guard']) expect(env(multi, name).CIO_WORKSPACES, name).toBe('acme:us,beta:eu');
    const receiver = env(multi, 'cio-receiver');
    const handler = env(multi, 'cio-handler');
    for (const ws of ['acme', 'beta']) {
      expect(receiver[workspaceVariable(SETTINGS.signingKeysSecret.name, ws)]).toBe(secretIdRef(multi, `cio-${ws}-webhook-signing-keys`));
      expect(handler[workspaceVariable(SETTINGS.siteIdSecret.name, ws)]).toBe(secretIdRef(multi, `cio-${ws}-track-site-id`));
      expect(handler[workspaceVariable(SETTINGS.trackApiKeySecret.name, ws)]).toBe(secretIdRef(multi, `cio-${ws}-track-api-key`));
    }
    expect(Object.keys(receiver).filter((k) => k.includes('__')).sort()).toEqual(['CIO_WEBHOOK_SIGNING_KEYS_SECRET__ACME', 'CIO_WEBHOOK_SIGNING_KEYS_SECRET__BETA']);
    expect(Object.keys(handler).filter((k) => k.includes('__')).sort()).toEqual(['CIO_SITE_ID_SECRET__ACME', 'CIO_SITE_ID_SECRET__BETA', 'CIO_TRACK_API_KEY_SECRET__ACME', 'CIO_TRACK_API_KEY_SECRET__BETA']);
    // The unsuffixed ones are ambiguous with several workspaces (the functions refuse them), and the
    // handler takes each workspace's Track API URL from its region.
    for (const variable of ['CIO_WEBHOOK_SIGNING_KEYS_SECRET', 'CIO_WEBHOOK_SIGNING_KEYS', 'CIO_SITE_ID_SECRET', 'CIO_TRACK_API_KEY_SECRET', 'CIO_SITE_ID', 'CIO_TRACK_API_KEY', 'CIO_REGION', 'CIO_TRACK_URL']) {
      expect(Object.keys(receiver)).not.toContain(variable);
      expect(Object.keys(handler)).not.toContain(variable);
    }
    // Everything else each function reads at start-up is set as with one workspace.
    const perWorkspace = [SETTINGS.signingKeysSecret.name, SETTINGS.siteIdSecret.name, SETTINGS.trackApiKeySecret.name, SETTINGS.region.name, SETTINGS.trackUrl.name];
    for (const variable of RECEIVER_VARIABLES.filter((v) => !perWorkspace.includes(v))) expect(Object.keys(receiver), variable).toContain(variable);
    for (const variable of HANDLER_VARIABLES.filter((v) => !perWorkspace.includes(v) && v !== SETTINGS.pseudonymKey.name)) expect(Object.keys(handler), variable).toContain(variable);
  });

  it('gives each handler instance each workspace\'s share of CIO_MAX_REQUEST_RATE, as with one workspace', () => {
    for (const extra of [{}, { CIO_MAX_REQUEST_RATE: '10', HANDLER_MAX_INSTANCES: '3' }] as Array<Record<string, string>>) {
      const one = synth(extra);
      const several = synth({ ...extra, CIO_WORKSPACES: 'acme,beta,gamma' });
      expect(env(several, 'cio-handler').CIO_REQUESTS_PER_SECOND).toBe(env(one, 'cio-handler').CIO_REQUESTS_PER_SECOND);
    }
    expect(env(synth({ CIO_MAX_REQUEST_RATE: '10', HANDLER_MAX_INSTANCES: '3', CIO_WORKSPACES: 'acme,beta' }), 'cio-handler').CIO_REQUESTS_PER_SECOND).toBe('3');
  });

  it('outputs each workspace\'s URL, the receiver\'s and its path, and says what to paste where', () => {
    const uri = `\${${refTo(multi, 'google_cloudfunctions2_function', named('cio-receiver'))}.service_config[0].uri}`;
    expect(multi.output.workspace_urls).toEqual({ value: { acme: `${uri}/acme`, beta: `${uri}/beta` }, description: expect.stringContaining('Reporting Webhooks > URL') });
    expect((multi.output.workspace_urls as unknown as { description: string }).description).toContain('cio-<workspace>-webhook-signing-keys');
    expect(multi.output.receiver_url).toMatchObject({ value: uri, description: expect.stringContaining('workspace_urls') });
    expect(multi.output.signing_keys_secrets!.value).toEqual({
      acme: `\${${refTo(multi, 'google_secret_manager_secret', (r) => r.secret_id === 'cio-acme-webhook-signing-keys')}.secret_id}`,
      beta: `\${${refTo(multi, 'google_secret_manager_secret', (r) => r.secret_id === 'cio-beta-webhook-signing-keys')}.secret_id}`,
    });
    expect(Object.keys(multi.output)).not.toContain('signing_keys_secret');
  });

  it('counts signature failures by workspace too, and names the workspace in the breach alerts', () => {
    expect(one(multi, 'google_logging_metric', named('cio_signature_failures'))).toMatchObject({
      metric_descriptor: { labels: [{ key: 'reason', value_type: 'STRING' }, { key: 'workspace', value_type: 'STRING' }] },
      label_extractors: { reason: 'EXTRACT(jsonPayload.reason)', workspace: 'EXTRACT(jsonPayload.workspace)' },
    });
    expect(String(one(multi, 'google_monitoring_dashboard', () => true).dashboard_json)).toContain('metric.label.workspace');
    for (const level of ['critical', 'warning']) {
      const policy = one(multi, 'google_monitoring_alert_policy', (r) => r.display_name === `cio: deliverability ${level}`) as Resource & { conditions: Array<{ condition_matched_log: { label_extractors: Record<string, string> } }>; documentation: { subject: string; content: string } };
      expect(policy.conditions[0]!.condition_matched_log.label_extractors).toEqual(Object.fromEntries(['workspace', ...BREACH_LABELS].map((l) => [l, `EXTRACT(jsonPayload.${l})`])));
      expect(policy.documentation.subject).toBe(`cio deliverability ${level}: $\${log.extracted_label.workspace}: $\${log.extracted_label.source} $\${log.extracted_label.source_id} $\${log.extracted_label.measure} rate at or above $\${log.extracted_label.threshold}`);
    }
  });

  it('alerts on webhooks to a path that names no workspace (the receiver\'s 404), which a single-workspace stack never answers', () => {
    const unknownPath = (s: Synth) => all(s, 'google_monitoring_alert_policy').filter((p) => String(p.display_name).includes('HTTP 404'));
    expect(unknownPath(single)).toEqual([]);
    const [policy, ...others] = unknownPath(multi) as Array<Resource & { conditions: Array<{ condition_threshold: { filter: string; threshold_value: number; comparison: string } }>; documentation: { content: string } }>;
    expect(others).toEqual([]);
    expect(policy!.conditions[0]!.condition_threshold).toMatchObject({ comparison: 'COMPARISON_GT', threshold_value: 3 });
    expect(policy!.conditions[0]!.condition_threshold.filter).toMatch(/run\.googleapis\.com\/request_count.*response_code = "404"/);
    expect(policy!.documentation.content).toContain('workspace_urls');
  });
});

describe('adding a workspace', () => {
  /** Each function's environment and dependencies without what `added` brings: its variables, its grants, CIO_WORKSPACES. */
  function withoutAdded(resource: Resource, added: string): Resource {
    const copy = structuredClone(resource) as Fn;
    const suffix = `__${added.toUpperCase()}`;
    copy.service_config.environment_variables = Object.fromEntries(Object.entries(copy.service_config.environment_variables).filter(([k]) => !k.endsWith(suffix) && k !== 'CIO_WORKSPACES'));
    copy.depends_on = (copy.depends_on ?? []).filter((d) => !d.includes(`_workspace-${added}_`));
    return copy;
  }

  it.each([
    ['acme', 'acme,beta', 'beta'],
    ['acme:eu,beta', 'acme:eu,beta,gamma:us', 'gamma'],
    // In the middle of the list: nothing is keyed by a position.
    ['acme,gamma', 'acme,beta:eu,gamma', 'beta'],
  ])('changes none of the resources of %s when %s is deployed: it adds %s\'s, and only the functions learn of it', (before, after, added) => {
    const a = synth({ CIO_WORKSPACES: before });
    const b = synth({ CIO_WORKSPACES: after });
    const inB = new Map(addressed(b));
    const functions = new Set(Object.keys(a.resource.google_cloudfunctions2_function!).map((key) => `google_cloudfunctions2_function.${key}`));
    for (const [address, resource] of addressed(a)) {
      expect(inB.has(address), `${address} is still there`).toBe(true);
      // The functions' environment names every workspace; everything else is untouched, byte for byte.
      if (functions.has(address)) expect(withoutAdded(inB.get(address)!, added), address).toEqual(withoutAdded(resource, added));
      else expect(inB.get(address), address).toEqual(resource);
    }
    const new_ = addressed(b).map(([address]) => address).filter((address) => !addressed(a).some(([x]) => x === address));
    expect(new_.sort()).toEqual([
      `google_secret_manager_secret.secrets_workspace-${added}_signing-keys`,
      `google_secret_manager_secret.secrets_workspace-${added}_site-id`,
      `google_secret_manager_secret.secrets_workspace-${added}_track-api-key`,
      `google_secret_manager_secret_iam_member.functions_workspace-${added}_handler-site-id`,
      `google_secret_manager_secret_iam_member.functions_workspace-${added}_handler-track-api-key`,
      `google_secret_manager_secret_iam_member.functions_workspace-${added}_receiver-signing-keys`,
    ].map((prefix) => expect.stringMatching(new RegExp(`^${prefix}_[0-9A-F]{8}$`))));
    expect(b.output.workspace_urls!.value).toMatchObject(a.output.workspace_urls!.value as unknown as Record<string, string>);
  });
});

describe('switching a deployed single-workspace stack to CIO_WORKSPACES', () => {
  it('replaces the three secrets and their grants with the workspace\'s (new names), and keeps everything else where it is', () => {
    const multiOne = synth({ CIO_WORKSPACES: 'acme' });
    const before = new Set(addressed(single).map(([address]) => address));
    const after = new Set(addressed(multiOne).map(([address]) => address));
    const gone = [...before].filter((a) => !after.has(a)).sort();
    expect(gone).toEqual([
      'google_secret_manager_secret.secrets_signing-keys_7EB6B863',
      'google_secret_manager_secret.secrets_site-id_796EC6BE',
      'google_secret_manager_secret.secrets_track-api-key_158B8049',
      'google_secret_manager_secret_iam_member.functions_handler-site-id_AF1196C4',
      'google_secret_manager_secret_iam_member.functions_handler-track-api-key_47E7AFC4',
      'google_secret_manager_secret_iam_member.functions_receiver-signing-keys_DE5D633F',
    ]);
    // The workspace's three secrets and grants, and the alert on paths that name no workspace.
    const added = [...after].filter((a) => !before.has(a));
    expect(added).toHaveLength(7);
    expect(added.filter((a) => a.startsWith('google_monitoring_alert_policy.'))).toEqual([expect.stringContaining('unknown-path-alert')]);
  });
});
