/**
 * The hazards a first `cdktf deploy` into a new project meets, each pinned on the synthesized JSON
 * (issue #9). Terraform cannot download providers here, so these read the plan's input the way the
 * provider will: references and depends_on order creation, and the values are what the API receives.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { pipelineNames } from '../../infra/names.js';
import { invokerCheckOffCommand } from '../../infra/constructs/functions.js';
import { IAM_PROPAGATION_WAIT } from '../../infra/timing.js';
import { type Resource, type Synth, addressed, all, dependenciesOf, named, one, refTo, synth } from '../support/synth.js';

let s: Synth;
beforeAll(() => {
  s = synth();
});

const names = pipelineNames('cio');
const fnRef = (name: string) => refTo(s, 'google_cloudfunctions2_function', named(name));

describe('1. the function builds can read their source', () => {
  it('gives the build account what Google documents for a custom build account', () => {
    const build = refTo(s, 'google_service_account', (r) => r.account_id === 'cio-build');
    const projectRoles = all(s, 'google_project_iam_member').filter((r) => String(r.member).includes(build)).map((r) => r.role).sort();
    // Logs, and the sources: Cloud Functions copies the zip into gcf-v2-sources-<number>-<region>,
    // a bucket the stack does not own, and the build reads it from there. Storage Object Admin, as
    // Google's page on a custom build account (and the provider's basic-builder example) grants.
    expect(projectRoles).toEqual(['roles/logging.logWriter', 'roles/storage.objectAdmin']);
    const repository = refTo(s, 'google_artifact_registry_repository', () => true);
    expect(one(s, 'google_artifact_registry_repository_iam_member', () => true)).toMatchObject({
      role: 'roles/artifactregistry.writer',
      member: expect.stringContaining(build),
      repository: `\${${repository}.name}`,
    });
    for (const name of [names.receiver, names.handler]) {
      expect((one(s, 'google_cloudfunctions2_function', named(name)).build_config as Resource)).toMatchObject({
        service_account: `\${${build}.id}`,
        docker_repository: `\${${repository}.id}`,
      });
    }
  });

  it('starts no build before those grants have had time to propagate', () => {
    const wait = refTo(s, 'time_sleep', (r) => String(r.depends_on).includes('build-logWriter'));
    const sleep = one(s, 'time_sleep', (r) => String(r.depends_on).includes('build-logWriter'));
    expect(sleep.create_duration).toBe(IAM_PROPAGATION_WAIT);
    const grants = [
      ...addressed(s).filter(([address, r]) => address.startsWith('google_project_iam_member.') && String(r.member).includes('functions_build')).map(([a]) => a),
      refTo(s, 'google_artifact_registry_repository_iam_member', () => true),
    ];
    expect([...(sleep.depends_on ?? [])].sort()).toEqual(grants.sort());
    for (const name of [names.receiver, names.handler]) expect(one(s, 'google_cloudfunctions2_function', named(name)).depends_on).toContain(wait);
    // Whatever makes the grants new replaces the sleep, so the builds it precedes wait again: a change
    // of the roles, a new build account, a changed storage condition (which replaces that grant).
    const storage = one(s, 'google_project_iam_member', (r) => r.role === 'roles/storage.objectAdmin');
    expect(sleep.triggers).toEqual({
      roles: 'roles/logging.logWriter,roles/storage.objectAdmin,roles/artifactregistry.writer',
      member: storage.member,
      condition: (storage.condition as { expression: string }).expression,
    });
  });
});

describe('2. the Pub/Sub service agent exists before anything is granted to it', () => {
  it('creates the agent identity with google-beta once Pub/Sub is enabled', () => {
    const identity = one(s, 'google_project_service_identity', (r) => r.service === 'pubsub.googleapis.com');
    expect(identity.provider).toBe('google-beta');
    expect(identity.depends_on).toEqual([refTo(s, 'google_project_service', (r) => r.service === 'pubsub.googleapis.com')]);
  });

  it('takes every grant to the agent from that resource, never from a constructed address', () => {
    const identity = refTo(s, 'google_project_service_identity', (r) => r.service === 'pubsub.googleapis.com');
    expect(JSON.stringify(s)).not.toMatch(/gcp-sa-pubsub/);
    const toAgent = addressed(s).filter(([, r]) => r.member === `\${${identity}.member}`);
    const kinds = toAgent.map(([address, r]) => `${address.split('.')[0]} ${r.role}`).sort();
    expect(kinds).toEqual([
      'google_bigquery_table_iam_member roles/bigquery.dataEditor',
      'google_bigquery_table_iam_member roles/bigquery.metadataViewer',
      'google_pubsub_subscription_iam_member roles/pubsub.subscriber',
      'google_pubsub_subscription_iam_member roles/pubsub.subscriber',
      'google_pubsub_subscription_iam_member roles/pubsub.subscriber',
      'google_pubsub_topic_iam_member roles/pubsub.publisher',
      'google_service_account_iam_member roles/iam.serviceAccountTokenCreator',
    ]);
  });
});

describe('3. IAM propagation does not decide the first apply', () => {
  it('waits at least the 2 minutes Google documents for every grant to propagate', () => {
    // IAM "Access change propagation": policy changes propagate "typically" in 2 minutes.
    const seconds = (duration: unknown) => {
      const match = /^(\d+)(s|m)$/.exec(String(duration));
      expect(match, String(duration)).not.toBeNull();
      return Number(match![1]) * (match![2] === 'm' ? 60 : 1);
    };
    for (const synthesized of [s, synth({ RECEIVER_ACCESS: 'no-invoker-check', EVENTS_RETENTION_DAYS: '400' })]) {
      const sleeps = all(synthesized, 'time_sleep');
      expect(sleeps).toHaveLength(2);
      for (const sleep of sleeps) expect(seconds(sleep.create_duration)).toBeGreaterThanOrEqual(120);
    }
  });

  it('creates the BigQuery subscription only after the agent\'s table grants have propagated', () => {
    const subscription = refTo(s, 'google_pubsub_subscription', named(names.bigquerySubscription));
    const sleep = one(s, 'time_sleep', (r) => String(r.depends_on).includes('agent-dataEditor'));
    expect(sleep.create_duration).toBe(IAM_PROPAGATION_WAIT);
    expect(sleep.depends_on!.every((d) => d.startsWith('google_bigquery_table_iam_member.'))).toBe(true);
    expect(one(s, 'google_pubsub_subscription', named(names.bigquerySubscription)).depends_on).toEqual([refTo(s, 'time_sleep', (r) => String(r.depends_on).includes('agent-dataEditor'))]);
    expect(dependenciesOf(s, subscription)).toContain(refTo(s, 'google_project_service_identity', () => true));
  });
});

describe('4. no alert waits on a log-based metric created in the same apply', () => {
  it('bases every alert on a metric that exists before the apply, and signature failures on the receiver\'s 401s', () => {
    const created = all(s, 'google_logging_metric').map((m) => `logging.googleapis.com/user/${String(m.name)}`);
    expect(created.length).toBeGreaterThan(0);
    // A log-match condition (the deliverability guard's) reads log entries, not a metric: nothing to wait for.
    const filters = all(s, 'google_monitoring_alert_policy').flatMap((p) => (p.conditions as Array<{ condition_threshold?: { filter: string }; condition_matched_log?: { filter: string } }>).map((c) => (c.condition_threshold ?? c.condition_matched_log)!.filter));
    for (const filter of filters) {
      expect(filter).not.toContain('logging.googleapis.com/user/');
      for (const metric of created) expect(filter).not.toContain(metric);
    }
    expect(filters).toContainEqual(expect.stringMatching(/service_name = "\$\{google_cloudfunctions2_function\.functions_receiver-function.*run\.googleapis\.com\/request_count.*response_code = "401"/));
  });
});

describe('5. the dashboard converges', () => {
  it('holds no zero, empty or unset value the Monitoring API would drop on the way back', () => {
    const dashboard = JSON.parse(String(one(s, 'google_monitoring_dashboard', () => true).dashboard_json)) as unknown;
    const defaults: string[] = [];
    const walk = (value: unknown, path: string) => {
      if (value === 0 || value === '' || value === false || value === null || value === undefined) defaults.push(path);
      else if (Array.isArray(value)) {
        if (value.length === 0) defaults.push(path);
        value.forEach((v, i) => walk(v, `${path}[${i}]`));
      } else if (typeof value === 'object') {
        if (Object.keys(value).length === 0) defaults.push(path);
        for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
      }
    };
    walk(dashboard, '$');
    expect(defaults).toEqual([]);
    // The layout survives the pruning: the first tile sits at the origin by omission.
    const tiles = (dashboard as { mosaicLayout: { tiles: Array<Record<string, unknown>> } }).mosaicLayout.tiles;
    expect(tiles[0]).not.toHaveProperty('xPos');
    expect(tiles[1]).toMatchObject({ xPos: 6, width: 6, height: 4 });
  });
});

describe('6. organizations with Domain Restricted Sharing (RECEIVER_ACCESS=no-invoker-check)', () => {
  let drs: Synth;
  beforeAll(() => {
    drs = synth({ RECEIVER_ACCESS: 'no-invoker-check' });
  });

  it('grants allUsers nothing anywhere', () => {
    expect(JSON.stringify(drs)).not.toContain('allUsers');
    expect(JSON.stringify(drs)).not.toContain('allAuthenticatedUsers');
  });

  it('turns the receiver\'s invoker check off itself, after every update of the function, with Terraform\'s own credentials', () => {
    const receiver = refTo(drs, 'google_cloudfunctions2_function', named(names.receiver));
    const step = one(drs, 'terraform_data', (r) => r.provisioner !== undefined);
    const markerAddress = refTo(drs, 'terraform_data', (r) => r.provisioner === undefined);
    const marker = one(drs, 'terraform_data', (r) => r.provisioner === undefined);
    expect(step.depends_on).toEqual([receiver]);
    const [provisioner, ...others] = step.provisioner as Array<{ 'local-exec': { command: string; working_dir: string } }>;
    expect(others).toEqual([]);
    // The project's own command (npm run ops, the project's Node), not gcloud: nothing needs a gcloud login.
    expect(provisioner!['local-exec'].command).toBe(invokerCheckOffCommand(`\${${receiver}.service_config[0].service}`));
    expect(provisioner!['local-exec'].command).toMatch(/^npm run --silent ops -- invoker-check off --service /);
    // The marker is replaced by any planned update or replacement of the function (a plain address:
    // Terraform refuses an interpolation there), so its id is unknown in that plan and the step is
    // replaced in the same apply; update_time catches an update Google made, on the next apply.
    expect(marker.lifecycle).toEqual({ replace_triggered_by: [receiver] });
    expect(Object.keys(marker).filter((key) => key !== '//' && key !== 'lifecycle')).toEqual([]);
    expect(step.lifecycle).toBeUndefined();
    expect(step.triggers_replace).toEqual({ function_updated: `\${${markerAddress}.id}/\${${receiver}.update_time}` });
  });

  it('reads no value of the function that the provider plans as its old one, in a resource replaced with it', () => {
    // The provider plans an updated function's computed attributes (update_time, state, url, …) as
    // their old values (resource_cloudfunctions2_function.go at v6.50.0 marks none unknown). A resource
    // replaced in the same apply whose own configuration read one would be planned with the old value
    // and see the new one at apply: "Provider produced inconsistent final plan".
    for (const synthesized of [s, drs]) {
      for (const [type, byName] of Object.entries(synthesized.resource)) {
        for (const [name, resource] of Object.entries(byName)) {
          const triggeredBy = ((resource.lifecycle as { replace_triggered_by?: string[] } | undefined)?.replace_triggered_by) ?? [];
          const { lifecycle: _lifecycle, ...configuration } = resource;
          for (const trigger of triggeredBy) {
            expect(JSON.stringify(configuration), `${type}.${name} reads ${trigger}`).not.toContain(`\${${trigger}.`);
          }
        }
      }
    }
  });

  it('runs no command that needs the gcloud CLI, in either mode', () => {
    for (const synthesized of [s, drs]) expect(JSON.stringify(synthesized)).not.toMatch(/gcloud/);
    expect(all(s, 'terraform_data')).toEqual([]);
  });

  it('keeps the handler private behind IAM and OIDC in both modes', () => {
    for (const synthesized of [s, drs]) {
      const handler = Object.entries(synthesized.resource.google_cloudfunctions2_function!).find(([, r]) => r.name === names.handler)!;
      const members = all(synthesized, 'google_cloud_run_v2_service_iam_member').filter((m) => String(m.name).includes(handler[0]));
      expect(members.map((m) => [m.role, m.member])).toEqual([['roles/run.invoker', expect.stringContaining('push-invoker')]]);
      expect((handler[1].service_config as Resource).ingress_settings).toBe('ALLOW_INTERNAL_ONLY');
    }
    expect(all(s, 'google_cloud_run_v2_service_iam_member').filter((m) => m.member === 'allUsers')).toHaveLength(1);
  });

  it('refuses an unknown mode with the others', () => {
    expect(() => synth({ RECEIVER_ACCESS: 'public' })).toThrow(/RECEIVER_ACCESS must be one of all-users, no-invoker-check/);
  });
});

describe('7. the dedupe records live in a named database of their own', () => {
  it('creates a native database named for the stack, with the TTL policy on it', () => {
    const database = one(s, 'google_firestore_database', () => true);
    expect(database).toMatchObject({ name: names.dedupeDatabase, type: 'FIRESTORE_NATIVE', location_id: 'us-central1' });
    expect(database.name).not.toBe('(default)');
    const ref = refTo(s, 'google_firestore_database', () => true);
    expect(one(s, 'google_firestore_field', () => true)).toMatchObject({ database: `\${${ref}.name}`, field: 'expire_at', ttl_config: {} });
    const handler = one(s, 'google_cloudfunctions2_function', named(names.handler)).service_config as { environment_variables: Record<string, string> };
    expect(handler.environment_variables.DEDUPE_DATABASE).toBe(`\${${ref}.name}`);
  });

  it('limits the handler\'s Firestore role to that database with an IAM condition', () => {
    const grant = one(s, 'google_project_iam_member', (r) => r.role === 'roles/datastore.user');
    expect(grant.member).toContain('functions_handler');
    expect((grant.condition as { expression: string }).expression).toBe(`resource.name == "projects/acme-prod-1/databases/${names.dedupeDatabase}"`);
  });
});

describe('8. column changes roll out table first', () => {
  it('drops fields the table lacks instead of blocking the backlog', () => {
    expect(one(s, 'google_pubsub_subscription', named(names.bigquerySubscription)).bigquery_config).toMatchObject({ use_table_schema: true, write_metadata: true, drop_unknown_fields: true });
  });

  it('applies the events table before either function, which write its fields', () => {
    const table = refTo(s, 'google_bigquery_table', (r) => r.table_id === 'events' && r.view === undefined);
    for (const name of [names.receiver, names.handler]) expect(one(s, 'google_cloudfunctions2_function', named(name)).depends_on).toContain(table);
  });
});

describe('providers', () => {
  it('declares every provider the JSON uses, each pinned to the version its bindings wrap', () => {
    expect(s.terraform.required_providers).toEqual({
      google: { source: 'google', version: '6.50.0' },
      'google-beta': { source: 'google-beta', version: '6.50.0' },
      random: { source: 'hashicorp/random', version: '3.7.2' },
      time: { source: 'hashicorp/time', version: '0.13.1' },
    });
    const declared = new Set([...Object.keys(s.terraform.required_providers as object), 'terraform']);
    for (const [address, resource] of addressed(synth({ RECEIVER_ACCESS: 'no-invoker-check', EVENTS_RETENTION_DAYS: '400' }))) {
      const provider = String(resource.provider ?? address.split('_')[0]);
      expect(declared, address).toContain(provider);
    }
  });
});
