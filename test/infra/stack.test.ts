/**
 * The synthesized Terraform JSON: each resource's security- and correctness-relevant settings, and
 * contract checks that keep the infrastructure, the shared definitions and the code from drifting.
 * The first-deploy hazards are in first-deploy.test.ts, the warehouse's privacy in privacy.test.ts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version/index.js';
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { HANDLER_VARIABLES, RECEIVER_VARIABLES } from '../../shared/config.js';
import { LOG_EVENTS } from '../../shared/log-events.js';
import { DEFAULT_POLICY, MAX_FILTER_BYTES, renderPushFilter } from '../../shared/policy.js';
import { TABLE_COLUMNS } from '../../shared/row.js';
import { REQUIRED_SERVICES, RETENTION_SERVICES } from '../../infra/constructs/services.js';
import { STACK_NAME } from '../../infra/names.js';
import { DERIVED_OBJECTS, bigqueryNames, derivedSql } from '../../infra/sql.js';
import { ROOT } from '../../scripts/local/function-process.js';
import { type Synth, addressed, all, named, one, refTo, synth } from '../support/synth.js';

let s: Synth;
beforeAll(() => {
  s = synth();
});

type Fn = { build_config: { runtime: string; entry_point: string; service_account: string }; service_config: Record<string, unknown> & { environment_variables: Record<string, string>; secret_environment_variables: Array<{ key: string; secret: string; version: string }> } };
const fn = (name: string) => one(s, 'google_cloudfunctions2_function', named(name)) as unknown as Fn;

describe('project services', () => {
  it('enables every API the pipeline uses and leaves them on at destroy', () => {
    const enabled = all(s, 'google_project_service');
    expect(enabled.map((r) => r.service).sort()).toEqual([...REQUIRED_SERVICES].sort());
    for (const r of enabled) expect(r.disable_on_destroy).toBe(false);
    const withRetention = all(synth({ EVENTS_RETENTION_DAYS: '400' }), 'google_project_service').map((r) => r.service);
    expect(withRetention.sort()).toEqual([...REQUIRED_SERVICES, ...RETENTION_SERVICES].sort());
  });
});

describe('identities and least privilege', () => {
  it('creates one service account per role', () => {
    expect(all(s, 'google_service_account').map((r) => r.account_id).sort()).toEqual(['cio-build', 'cio-guard', 'cio-guard-invoker', 'cio-handler', 'cio-push-invoker', 'cio-receiver']);
  });

  it('grants no project-wide editor, owner or admin role but the build account\'s documented one, and no unconditioned data role', () => {
    const roles = all(s, 'google_project_iam_member').map((r) => r.role);
    // bigquery.jobUser (the guard's) runs jobs; it reads no data: that comes from a dataset's own access list.
    expect(roles.sort()).toEqual(['roles/bigquery.jobUser', 'roles/datastore.user', 'roles/logging.logWriter', 'roles/storage.objectAdmin']);
    // Storage Object Admin is what Google documents for a custom build account (the build reads the
    // source from Cloud Functions' own gcf-v2-sources bucket); it goes to the build account only.
    for (const r of all(s, 'google_project_iam_member')) {
      if (r.role === 'roles/storage.objectAdmin') expect(r.member).toContain('functions_build');
      else expect(String(r.role)).not.toMatch(/editor|owner|admin/i);
    }
    expect(one(s, 'google_project_iam_member', (r) => r.role === 'roles/datastore.user').condition).toBeDefined();
  });

  it('keeps the build account\'s Cloud Storage role to the function source buckets, away from the pseudonym key\'s', () => {
    const { expression } = one(s, 'google_project_iam_member', (r) => r.role === 'roles/storage.objectAdmin').condition as { expression: string };
    expect(expression).toBe('resource.service != "storage.googleapis.com" || resource.name.startsWith("projects/_/buckets/gcf-v2-sources-")');
    for (const bucket of all(s, 'google_storage_bucket')) expect(String(bucket.name).startsWith('gcf-v2-sources-')).toBe(false);
  });

  it('lets the receiver publish to the events topic only', () => {
    const [publisher] = all(s, 'google_pubsub_topic_iam_member').filter((r) => String(r.member).includes('functions_receiver'));
    expect(publisher).toMatchObject({ role: 'roles/pubsub.publisher', topic: expect.stringContaining('google_pubsub_topic.event-bus_events') });
  });

  it('gives each function exactly its own secrets, to read', () => {
    const grants = all(s, 'google_secret_manager_secret_iam_member');
    const access = grants.map((r) => `${String(r.member).match(/functions_(\w+)_/)?.[1]} ${String(r.secret_id).match(/secrets_([a-z-]+)_/)?.[1]}`);
    expect(access.sort()).toEqual(['handler pseudonym-key', 'handler site-id', 'handler track-api-key', 'receiver signing-keys']);
    for (const grant of grants) expect(grant.role).toBe('roles/secretmanager.secretAccessor');
    // Each grant is on the secret the function's variable names, so what it reads is what it may read.
    const secretRef = (id: string) => refTo(s, 'google_secret_manager_secret', (r) => r.secret_id === id);
    expect(fn('cio-receiver').service_config.environment_variables.CIO_WEBHOOK_SIGNING_KEYS_SECRET).toBe(`\${${secretRef('cio-webhook-signing-keys')}.id}`);
    expect(fn('cio-handler').service_config.environment_variables).toMatchObject({
      CIO_SITE_ID_SECRET: `\${${secretRef('cio-track-site-id')}.id}`,
      CIO_TRACK_API_KEY_SECRET: `\${${secretRef('cio-track-api-key')}.id}`,
    });
  });

  it('makes the receiver public and the handler private', () => {
    const members = all(s, 'google_cloud_run_v2_service_iam_member');
    const receiverRef = refTo(s, 'google_cloudfunctions2_function', named('cio-receiver'));
    const handlerRef = refTo(s, 'google_cloudfunctions2_function', named('cio-handler'));
    const onReceiver = members.filter((m) => String(m.name).includes(receiverRef));
    const onHandler = members.filter((m) => String(m.name).includes(handlerRef));
    expect(onReceiver).toEqual([expect.objectContaining({ role: 'roles/run.invoker', member: 'allUsers' })]);
    expect(onHandler).toEqual([expect.objectContaining({ role: 'roles/run.invoker', member: expect.stringContaining('push-invoker') })]);
    expect(JSON.stringify(onHandler)).not.toContain('allUsers');
    expect(fn('cio-receiver').service_config.ingress_settings).toBe('ALLOW_ALL');
    expect(fn('cio-handler').service_config.ingress_settings).toBe('ALLOW_INTERNAL_ONLY');
  });
});

describe('secrets', () => {
  const OPERATOR_SECRETS = ['cio-track-api-key', 'cio-track-site-id', 'cio-webhook-signing-keys'];

  it('creates the three Customer.io secrets with no version: their values are the operator\'s alone', () => {
    expect(all(s, 'google_secret_manager_secret').map((r) => r.secret_id).sort()).toEqual(['cio-pseudonym-key', ...OPERATOR_SECRETS]);
    // The only version Terraform manages is the pseudonym key's, which the stack generates.
    const versions = all(s, 'google_secret_manager_secret_version');
    expect(versions).toHaveLength(1);
    expect(versions[0]!.secret).toContain('secrets_pseudonym-key');
  });

  it('nothing an operator does to their versions can change a plan: no resource reads anything but the secrets\' names', () => {
    for (const synthesized of [s, synth({ RECEIVER_ACCESS: 'no-invoker-check', EVENTS_RETENTION_DAYS: '400', ALERT_EMAIL: 'oncall@example.com' })]) {
      const addresses = Object.entries(synthesized.resource.google_secret_manager_secret!)
        .filter(([, r]) => OPERATOR_SECRETS.includes(String(r.secret_id)))
        .map(([key]) => `google_secret_manager_secret.${key}`);
      expect(addresses).toHaveLength(3);
      const text = JSON.stringify(synthesized);
      // Every "${google_secret_manager_secret.<key>…}" in the JSON, by what follows the address.
      const references = addresses.flatMap((address) => text.split('${' + address).slice(1).map((rest) => rest.slice(0, rest.indexOf('}'))));
      // The secret's id (projects/P/secrets/S) and secret_id are fixed when it is created; nothing
      // version-derived (a version's name, data, state, alias) is read, and there is no data source.
      expect(new Set(references)).toEqual(new Set(['.id', '.secret_id']));
      expect(Object.keys((synthesized as { data?: object }).data ?? {}).filter((type) => type.startsWith('google_secret_manager'))).toEqual([]);
      for (const address of addresses) {
        const secret = synthesized.resource.google_secret_manager_secret![address.split('.')[1]!]!;
        expect(secret).not.toHaveProperty('version_aliases');
        expect(secret).not.toHaveProperty('lifecycle');
      }
      for (const fnResource of all(synthesized, 'google_cloudfunctions2_function')) {
        const secretVars = ((fnResource.service_config as Fn['service_config']).secret_environment_variables ?? []).map((v) => v.key);
        expect(secretVars.filter((key) => key !== 'PSEUDONYM_KEY')).toEqual([]);
      }
    }
  });

  it('leaves out the placeholder versions earlier stacks made, at the addresses docs/deploy.md names for the upgrade', () => {
    // Where the earlier construct put them: secrets/<key>-placeholder in the stack.
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'earlier-')) });
    const earlier = new TerraformStack(app, STACK_NAME);
    const secrets = new Construct(earlier, 'secrets');
    const addresses = ['signing-keys', 'site-id', 'track-api-key'].map(
      (key) => `google_secret_manager_secret_version.${earlier.getLogicalId(new SecretManagerSecretVersion(secrets, `${key}-placeholder`, { secret: 's', secretData: 'd' }))}`,
    );
    const upgrade = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8').split('## Upgrading')[1]!;
    for (const address of addresses) {
      expect(upgrade).toContain(address);
      expect(Object.keys(s.resource.google_secret_manager_secret_version!).map((key) => `google_secret_manager_secret_version.${key}`)).not.toContain(address);
    }
  });

  it('generates the pseudonym key: 32 random bytes, in the secret as hex', () => {
    expect(one(s, 'random_bytes', () => true)).toMatchObject({ length: 32 });
    const bytes = refTo(s, 'random_bytes', () => true);
    const version = one(s, 'google_secret_manager_secret_version', () => true);
    expect(version.secret_data).toBe(`\${${bytes}.hex}`);
    expect(version.secret).toContain('secrets_pseudonym-key');
  });
});

describe('functions', () => {
  it('deploys the bundle under a content-hash object name', () => {
    const object = one(s, 'google_storage_bucket_object', (r) => String(r.name).startsWith('functions-'));
    expect(object.name).toMatch(/^functions-[0-9A-F]{32}\.zip$/);
    expect(object.source).toMatch(/^assets\/functions_bundle_[0-9A-F]{8}\/[0-9A-F]{32}\/function-source\.zip$/);
    expect(object.source).toContain(String(object.name).slice('functions-'.length, -'.zip'.length));
    const objectRef = refTo(s, 'google_storage_bucket_object', (r) => String(r.name).startsWith('functions-'));
    for (const name of ['cio-receiver', 'cio-handler']) {
      expect(fn(name).build_config).toMatchObject({ source: { storage_source: { object: `\${${objectRef}.name}` } } });
    }
  });

  it.each([['cio-receiver', 'receiver'], ['cio-handler', 'handler']])('%s runs nodejs22 with entry point %s and its own build account', (name, entry) => {
    expect(fn(name).build_config).toMatchObject({ runtime: 'nodejs22', entry_point: entry, service_account: expect.stringContaining('functions_build') });
  });

  it('keeps a receiver instance warm by default', () => {
    expect(fn('cio-receiver').service_config.min_instance_count).toBe(1);
    const warmer = Object.values(synth({ RECEIVER_MIN_INSTANCES: '3' }).resource.google_cloudfunctions2_function!).find(named('cio-receiver')) as unknown as Fn;
    expect(warmer.service_config.min_instance_count).toBe(3);
  });

  it('sets every variable each function reads at start-up', () => {
    for (const [name, variables] of [['cio-receiver', RECEIVER_VARIABLES], ['cio-handler', HANDLER_VARIABLES]] as const) {
      const config = fn(name).service_config;
      const set = [...Object.keys(config.environment_variables), ...(config.secret_environment_variables ?? []).map((v) => v.key)];
      for (const variable of variables) expect(set, `${name} ${variable}`).toContain(variable);
      expect(config.environment_variables.NODE_ENV).toBe('production');
    }
  });

  it('reads credentials from secrets, never from plain environment values', () => {
    // The Customer.io ones at run time by name (CIO_*_SECRET); the pseudonym key as a secret variable
    // pinned to the version Terraform made (the one the warehouse's key table is loaded from).
    expect(fn('cio-receiver').service_config.secret_environment_variables).toBeUndefined();
    const keyVersion = refTo(s, 'google_secret_manager_secret_version', () => true);
    expect(fn('cio-handler').service_config.secret_environment_variables.map((v) => [v.key, v.version])).toEqual([['PSEUDONYM_KEY', `\${${keyVersion}.version}`]]);
    for (const name of ['cio-receiver', 'cio-handler']) {
      const plain = Object.keys(fn(name).service_config.environment_variables);
      for (const secret of ['CIO_WEBHOOK_SIGNING_KEYS', 'CIO_TRACK_API_KEY', 'CIO_SITE_ID', 'PSEUDONYM_KEY']) expect(plain).not.toContain(secret);
    }
  });

  it('orders the handler time budget: claim + calls + done-write ≤ function timeout < ack deadline < lease', () => {
    const handler = fn('cio-handler').service_config;
    const push = one(s, 'google_pubsub_subscription', named('cio-events-handler'));
    const attempt = Number(handler.environment_variables.CIO_DEADLINE_SECONDS) + 2 * Number(handler.environment_variables.DEDUPE_DEADLINE_SECONDS);
    const lease = Number(handler.environment_variables.DEDUPE_LEASE_SECONDS);
    expect(attempt).toBeLessThanOrEqual(handler.timeout_seconds as number);
    expect(handler.timeout_seconds as number).toBeLessThan(push.ack_deadline_seconds as number);
    expect(push.ack_deadline_seconds as number).toBeLessThan(lease);
  });

  it('keeps max instances × each instance\'s rate within CIO_MAX_REQUEST_RATE', () => {
    for (const [env, total] of [[{}, 100], [{ CIO_MAX_REQUEST_RATE: '1000', HANDLER_MAX_INSTANCES: '7' }, 1000], [{ CIO_MAX_REQUEST_RATE: '10', HANDLER_MAX_INSTANCES: '3' }, 10]] as const) {
      const handler = Object.values(synth(env).resource.google_cloudfunctions2_function!).find(named('cio-handler')) as unknown as Fn;
      const perInstance = Number(handler.service_config.environment_variables.CIO_REQUESTS_PER_SECOND);
      expect(perInstance).toBeGreaterThanOrEqual(1);
      expect((handler.service_config.max_instance_count as number) * perInstance).toBeLessThanOrEqual(total);
    }
    expect(fn('cio-handler').service_config.environment_variables.CIO_TRACK_URL).toBe('https://track.customer.io/api/v1');
  });

  it('points the handler at the EU Track API for an EU workspace', () => {
    const eu = synth({ CIO_REGION: 'eu' });
    const handler = Object.values(eu.resource.google_cloudfunctions2_function!).find(named('cio-handler')) as unknown as Fn;
    expect(handler.service_config.environment_variables).toMatchObject({ CIO_REGION: 'eu', CIO_TRACK_URL: 'https://track-eu.customer.io/api/v1' });
  });
});

describe('messaging', () => {
  it('keeps the events topic for replay and has a dead-letter topic with a subscription', () => {
    expect(one(s, 'google_pubsub_topic', named('cio-events')).message_retention_duration).toBe('604800s');
    expect(one(synth({ RETENTION_DAYS: '31' }), 'google_pubsub_topic', named('cio-events')).message_retention_duration).toBe('2678400s');
    one(s, 'google_pubsub_topic', named('cio-events-dlq'));
    expect(one(s, 'google_pubsub_subscription', named('cio-events-dlq')).topic).toContain('event-bus_dead-letter');
  });

  it('pays for retention once, on the topics: no subscription retains acknowledged messages', () => {
    for (const subscription of all(s, 'google_pubsub_subscription')) {
      expect(subscription.retain_acked_messages, String(subscription.name)).toBeUndefined();
      expect(subscription.message_retention_duration, String(subscription.name)).toBeUndefined();
    }
  });

  it('has a replay topic whose push subscription reaches the handler, like the main one', () => {
    const replay = one(s, 'google_pubsub_subscription', named('cio-events-replay-handler'));
    const main = one(s, 'google_pubsub_subscription', named('cio-events-handler'));
    expect(replay.topic).toContain('event-bus_replay');
    const { topic: _a, name: _b, ...replaySettings } = replay;
    const { topic: _c, name: _d, ...mainSettings } = main;
    expect(replaySettings).toEqual(mainSettings);
    expect(one(s, 'google_pubsub_topic', named('cio-events-replay')).message_retention_duration).toBeUndefined();
  });

  it('pushes to the handler with OIDC, retries and dead-lettering', () => {
    const push = one(s, 'google_pubsub_subscription', named('cio-events-handler'));
    const handlerRef = refTo(s, 'google_cloudfunctions2_function', named('cio-handler'));
    expect(push).toMatchObject({
      push_config: {
        push_endpoint: `\${${handlerRef}.service_config[0].uri}`,
        oidc_token: { service_account_email: expect.stringContaining('push-invoker'), audience: `\${${handlerRef}.service_config[0].uri}` },
      },
      retry_policy: { minimum_backoff: '10s', maximum_backoff: '600s' },
      dead_letter_policy: { dead_letter_topic: expect.stringContaining('event-bus_dead-letter'), max_delivery_attempts: 10 },
      expiration_policy: { ttl: '' },
    });
  });

  it('filters the push subscription with the policy\'s rendered filter, within 256 bytes', () => {
    const filter = String(one(s, 'google_pubsub_subscription', named('cio-events-handler')).filter);
    expect(filter).toBe(renderPushFilter(DEFAULT_POLICY));
    expect(Buffer.byteLength(filter)).toBeLessThanOrEqual(MAX_FILTER_BYTES);
  });

  it('follows a configured policy: filter and handler environment together', () => {
    const custom = synth({ CIO_SUPPRESS_ON: 'dropped', CIO_ACTIONS: 'bounce,unsubscribe' });
    const push = Object.values(custom.resource.google_pubsub_subscription!).find(named('cio-events-handler'))!;
    expect(push.filter).toBe(renderPushFilter({ actions: ['bounce', 'unsubscribe'], suppressOn: ['dropped'] }));
    const handler = Object.values(custom.resource.google_cloudfunctions2_function!).find(named('cio-handler')) as unknown as Fn;
    expect(handler.service_config.environment_variables).toMatchObject({ CIO_ACTIONS: 'bounce,unsubscribe', CIO_SUPPRESS_ON: 'dropped' });
  });
});

describe('warehouse', () => {
  it('generates the events table schema from the shared row definition', () => {
    const table = one(s, 'google_bigquery_table', (r) => r.table_id === 'events' && r.view === undefined);
    const schema = JSON.parse(String(table.schema)) as Array<{ name: string; type: string; mode: string }>;
    expect(schema.map(({ name, type, mode }) => ({ name, type, mode }))).toEqual(TABLE_COLUMNS.map(({ name, type, mode }) => ({ name, type, mode })));
    expect(schema.map((c) => c.name)).toEqual(expect.arrayContaining(['subscription_name', 'message_id', 'publish_time', 'attributes']));
  });

  it('partitions by day on event_timestamp, clusters, and protects the table', () => {
    expect(one(s, 'google_bigquery_table', (r) => r.table_id === 'events' && r.view === undefined)).toMatchObject({
      time_partitioning: { type: 'DAY', field: 'event_timestamp' },
      clustering: ['object_type', 'metric', 'customer_id'],
      deletion_protection: true,
    });
  });

  it('lets destroy take the data only after an explicit DELETION_PROTECTION=0', () => {
    const raw = (synthesized: Synth) => one(synthesized, 'google_bigquery_dataset', (r) => r.dataset_id === 'cio_webhooks');
    expect(raw(s).delete_contents_on_destroy).toBe(false);
    expect(one(s, 'google_firestore_database', () => true)).toMatchObject({ deletion_policy: 'ABANDON', delete_protection_state: 'DELETE_PROTECTION_ENABLED' });
    const unprotected = synth({ DELETION_PROTECTION: '0' });
    expect(one(unprotected, 'google_bigquery_table', (r) => r.table_id === 'events' && r.view === undefined).deletion_protection).toBe(false);
    expect(raw(unprotected).delete_contents_on_destroy).toBe(true);
    expect(one(unprotected, 'google_firestore_database', () => true)).toMatchObject({ deletion_policy: 'DELETE', delete_protection_state: 'DELETE_PROTECTION_DISABLED' });
  });

  it('refuses to destroy the operator-filled secrets (every workspace\'s) unless DELETION_PROTECTION=0; the pseudonym key is Terraform\'s to replace', () => {
    const operators = (synthesized: Synth) => all(synthesized, 'google_secret_manager_secret').filter((r) => !String(r.secret_id).endsWith('-pseudonym-key'));
    for (const synthesized of [s, synth({ CIO_WORKSPACES: 'acme,beta:eu' })]) {
      expect(operators(synthesized).length).toBeGreaterThanOrEqual(3);
      for (const secret of operators(synthesized)) expect(secret.deletion_protection, String(secret.secret_id)).toBe(true);
    }
    expect(one(s, 'google_secret_manager_secret', (r) => r.secret_id === 'cio-pseudonym-key').deletion_protection).toBeUndefined();
    for (const secret of operators(synth({ DELETION_PROTECTION: '0' }))) expect(secret.deletion_protection).toBeUndefined();
  });

  it('creates the views and table functions from the SQL files, in the raw and the analytics dataset', () => {
    for (const [dataset, resolve] of [['cio_webhooks', bigqueryNames('acme-prod-1', 'cio_webhooks')], ['cio_analytics', bigqueryNames('acme-prod-1', 'cio_analytics')]] as const) {
      for (const [name, definition] of Object.entries(DERIVED_OBJECTS) as Array<[keyof typeof DERIVED_OBJECTS, (typeof DERIVED_OBJECTS)[keyof typeof DERIVED_OBJECTS]]>) {
        if (definition.kind === 'view') {
          expect(one(s, 'google_bigquery_table', (r) => r.dataset_id === dataset && r.table_id === name).view).toEqual({ query: derivedSql(name, resolve), use_legacy_sql: false });
        } else {
          expect(one(s, 'google_bigquery_routine', (r) => r.dataset_id === dataset && r.routine_id === name)).toMatchObject({
            routine_type: 'TABLE_VALUED_FUNCTION',
            language: 'SQL',
            definition_body: derivedSql(name, resolve),
            arguments: [
              { name: 'start_ts', argument_kind: 'FIXED_TYPE', data_type: '{"typeKind":"TIMESTAMP"}' },
              { name: 'end_ts', argument_kind: 'FIXED_TYPE', data_type: '{"typeKind":"TIMESTAMP"}' },
            ],
          });
        }
      }
    }
  });

  it('lets every view and table function on the events table read only the days asked for', () => {
    // The contract behind docs/analysts.md: a window must be partitioned by event_timestamp too (so an
    // outer filter on it can be pushed below the window), an aggregate view must keep the day of
    // event_timestamp as a grouping key (so a filter on day reaches the table), and a table function
    // must filter its range before anything else, or read one that does (then it may aggregate as it likes).
    const objects = [
      ...all(s, 'google_bigquery_table').filter((r) => r.view).map((r) => ({ name: `${r.dataset_id}.${r.table_id}`, sql: (r.view as { query: string }).query, fn: false })),
      ...all(s, 'google_bigquery_routine').map((r) => ({ name: `${r.dataset_id}.${r.routine_id}`, sql: String(r.definition_body), fn: true })),
    ];
    expect(objects.length).toBeGreaterThanOrEqual(2 * Object.keys(DERIVED_OBJECTS).length + 1);
    for (const { name, sql, fn: isFunction } of objects) {
      for (const [, partition] of sql.matchAll(/OVER\s*\(\s*PARTITION BY ([^)]*?)\s+ORDER BY/gi)) expect(partition, name).toMatch(/\bevent_timestamp\b/);
      if (!isFunction && /\bGROUP BY\b/i.test(sql)) {
        expect(sql, name).toMatch(/CAST\(event_timestamp AS DATE\) AS day/);
        expect(sql, name).toMatch(/GROUP BY day\b/);
      }
      if (isFunction) expect(sql, name).toMatch(/event_timestamp >= start_ts AND event_timestamp < end_ts|\(start_ts, end_ts\)/);
    }
  });

  it('writes with a BigQuery subscription using the table schema, metadata and a dead-letter topic', () => {
    expect(one(s, 'google_pubsub_subscription', named('cio-events-bigquery'))).toMatchObject({
      bigquery_config: { table: 'acme-prod-1.cio_webhooks.events', use_table_schema: true, write_metadata: true, drop_unknown_fields: true },
      dead_letter_policy: { dead_letter_topic: expect.stringContaining('event-bus_dead-letter') },
    });
  });

  it('gives the Pub/Sub service agent every grant the subscriptions need', () => {
    const agent = `\${${refTo(s, 'google_project_service_identity', () => true)}.member}`;
    const grants = [
      ...all(s, 'google_bigquery_table_iam_member').map((r) => [r.member, r.role, 'table']),
      ...all(s, 'google_pubsub_topic_iam_member').filter((r) => r.member === agent).map((r) => [r.member, r.role, String(r.topic)]),
      ...all(s, 'google_pubsub_subscription_iam_member').map((r) => [r.member, r.role, String(r.subscription)]),
      ...all(s, 'google_service_account_iam_member').map((r) => [r.member, r.role, String(r.service_account_id)]),
    ];
    for (const [member] of grants) expect(member).toBe(agent);
    const summary = grants.map(([, role, on]) => `${role} ${String(on).match(/(table|dead-letter|push_replay-subscription|push_subscription|bigquery-subscription|push-invoker)/)?.[1]}`).sort();
    expect(summary).toEqual([
      'roles/bigquery.dataEditor table',
      'roles/bigquery.metadataViewer table',
      'roles/iam.serviceAccountTokenCreator push-invoker',
      'roles/pubsub.publisher dead-letter',
      'roles/pubsub.subscriber bigquery-subscription',
      'roles/pubsub.subscriber push_replay-subscription',
      'roles/pubsub.subscriber push_subscription',
    ]);
  });
});

describe('dedupe store', () => {
  it('puts the TTL policy on the collection the handler writes', () => {
    const ttl = one(s, 'google_firestore_field', () => true);
    expect(ttl).toMatchObject({ collection: 'cio_webhook_events', field: 'expire_at', ttl_config: {} });
    expect(fn('cio-handler').service_config.environment_variables.DEDUPE_COLLECTION).toBe(ttl.collection);
  });
});

describe('monitoring', () => {
  it('alerts on dead letters, handler backlog age, warehouse backlog age and signature failures, at the thresholds deploy.md states', () => {
    type Threshold = { filter: string; threshold_value: number; duration: string; comparison: string };
    const thresholds = all(s, 'google_monitoring_alert_policy').flatMap((p) => (p.conditions as Array<{ condition_threshold?: Threshold }>).flatMap((c) => (c.condition_threshold ? [c.condition_threshold] : [])));
    const find = (pattern: RegExp) => {
      const found = thresholds.filter((t) => pattern.test(t.filter));
      expect(found, String(pattern)).toHaveLength(1);
      return found[0]!;
    };
    // Any dead-lettered event; a handler backlog older than 15 minutes and a warehouse one older than
    // 30 (each for 5 minutes); more than three 401 answers in five minutes.
    expect(find(/subscription_id = "\$\{google_pubsub_subscription\.event-bus_dead-letter-subscription.*num_undelivered_messages/)).toMatchObject({ comparison: 'COMPARISON_GT', threshold_value: 0, duration: '0s' });
    expect(find(/subscription_id = "\$\{google_pubsub_subscription\.push_subscription.*oldest_unacked_message_age/)).toMatchObject({ comparison: 'COMPARISON_GT', threshold_value: 900, duration: '300s' });
    expect(find(/subscription_id = "\$\{google_pubsub_subscription\.warehouse_bigquery-subscription.*oldest_unacked_message_age/)).toMatchObject({ comparison: 'COMPARISON_GT', threshold_value: 1800, duration: '300s' });
    const unauthorized = find(/run\.googleapis\.com\/request_count.*response_code = "401"/) as Threshold & { aggregations: Array<{ alignment_period: string; per_series_aligner: string }> };
    expect(unauthorized).toMatchObject({ comparison: 'COMPARISON_GT', threshold_value: 3, duration: '0s' });
    expect(unauthorized.aggregations).toEqual([expect.objectContaining({ alignment_period: '300s', per_series_aligner: 'ALIGN_SUM' })]);
  });

  it('alerts when Cloud Run refuses callers of the receiver, from its request log (refused requests never reach the container)', () => {
    const refused = all(s, 'google_monitoring_alert_policy').filter((p) => String(p.display_name).includes('HTTP 403'));
    expect(refused).toHaveLength(1);
    const [condition] = refused[0]!.conditions as Array<{ condition_matched_log: { filter: string } }>;
    const receiver = refTo(s, 'google_cloudfunctions2_function', (r) => r.name === 'cio-receiver');
    expect(condition!.condition_matched_log.filter).toBe(`resource.type = "cloud_run_revision" AND resource.labels.service_name = "\${${receiver}.name}" AND log_id("run.googleapis.com/requests") AND httpRequest.status = 403`);
    expect(refused[0]!.alert_strategy).toMatchObject({ notification_rate_limit: { period: '3600s' } });
    // With the invoker check off by the deploy's step, a deploy can fire it once: the text says so.
    const content = (synthesized: Synth) => (all(synthesized, 'google_monitoring_alert_policy').find((p) => String(p.display_name).includes('HTTP 403'))!.documentation as { content: string }).content;
    expect(content(s)).not.toContain('can fire this once');
    expect(content(synth({ RECEIVER_ACCESS: 'no-invoker-check' }))).toContain('A deploy that updates the receiver can fire this once');
  });

  it('counts signature failures and handler outcomes from the exact messages the functions log', () => {
    const metrics = all(s, 'google_logging_metric');
    expect(metrics.find((m) => m.name === 'cio_signature_failures')?.filter).toContain(`jsonPayload.message = "${LOG_EVENTS.signatureRejected}"`);
    expect(metrics.find((m) => m.name === 'cio_handler_outcomes')?.filter).toContain(`jsonPayload.message = "${LOG_EVENTS.eventHandled}"`);
  });

  it('notifies the alert email when one is given', () => {
    expect(all(s, 'google_monitoring_notification_channel')).toEqual([]);
    const withEmail = synth({ ALERT_EMAIL: 'oncall@example.com' });
    expect(Object.values(withEmail.resource.google_monitoring_notification_channel!)[0]).toMatchObject({ type: 'email', labels: { email_address: 'oncall@example.com' } });
    for (const policy of Object.values(withEmail.resource.google_monitoring_alert_policy!)) expect(policy.notification_channels).toHaveLength(1);
  });

  it('has a dashboard with the pipeline\'s charts', () => {
    const dashboard = JSON.parse(String(one(s, 'google_monitoring_dashboard', () => true).dashboard_json)) as { mosaicLayout: { tiles: Array<{ widget: { title: string } }> } };
    expect(dashboard.mosaicLayout.tiles.map((t) => t.widget.title)).toEqual([
      'Receiver requests by status',
      'Signature failures by reason',
      'Receiver latency (p50, p99)',
      'Handler outcomes',
      'Backlogs (undelivered messages)',
      'BigQuery subscription',
    ]);
  });
});

describe('outputs and state', () => {
  it('outputs what an operator needs', () => {
    expect(Object.keys(s.output).sort()).toEqual(['analytics_dataset', 'bigquery_subscription', 'dashboard_url', 'dead_letter_subscription', 'dedupe_database', 'events_table', 'push_subscription', 'receiver_url', 'replay_topic', 'signing_keys_secret', 'topic']);
    expect(s.output.events_table!.value).toBe('acme-prod-1.cio_webhooks.events');
  });

  it('keeps state locally by default and in GCS when a bucket is given', () => {
    expect(s.terraform.backend).toEqual({ local: { path: '../../../terraform.test-stack.tfstate' } });
    expect(synth({ TF_STATE_BUCKET: 'acme-tf-state' }).terraform.backend).toEqual({ gcs: { bucket: 'acme-tf-state', prefix: 'cio-webhooks/test-stack' } });
  });
});

describe('lifecycle blocks', () => {
  it('name only resources that exist, as plain addresses Terraform accepts (cdktf would write "${…}")', () => {
    for (const synthesized of [s, synth({ RECEIVER_ACCESS: 'no-invoker-check', EVENTS_RETENTION_DAYS: '30', ALERT_EMAIL: 'ops@acme.com' })]) {
      const addresses = new Set(addressed(synthesized).map(([address]) => address));
      for (const [address, resource] of addressed(synthesized)) {
        const lifecycle = resource.lifecycle as { replace_triggered_by?: string[] } | undefined;
        for (const trigger of lifecycle?.replace_triggered_by ?? []) {
          expect(trigger, address).not.toContain('${');
          expect(addresses.has(trigger.split('.').slice(0, 2).join('.')), `${address} → ${trigger}`).toBe(true);
        }
      }
    }
  });
});
