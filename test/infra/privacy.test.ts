/**
 * Personal data under control, on the synthesized JSON: who can read the warehouse and run queries,
 * what analysts see (the view's SQL, checked piece by piece: BigQuery has no emulator; the same SQL
 * runs on DuckDB in test/integration/warehouse-sql.test.ts), where the pseudonym key is and is not,
 * how long data lives, and what the build may write.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERASURE_LIMITS } from '../../ops/commands/erase.js';
import { ROOT } from '../../scripts/local/function-process.js';
import { EVENT_COLUMNS } from '../../shared/row.js';
import { TEXT_REDACTIONS } from '../../shared/redact.js';
import { ANALYTICS_COLUMNS, COLUMN_TREATMENT, KEY_NOT_LOADED, KEY_TABLE, LEFT_OUT_PAYLOAD_FIELDS, PAYLOAD_FIELDS, PAYLOAD_SHAPES, analyticsEventsSql, retentionDeleteSql, type PayloadFields } from '../../infra/privacy.js';
import { PSEUDONYM_KEY_ADDRESS } from '../../infra/constructs/secrets.js';
import { bigqueryNames } from '../../infra/sql.js';
import { type Synth, addressed, all, dependenciesOf, one, refTo, synth } from '../support/synth.js';

let s: Synth;
beforeAll(() => {
  s = synth({ WAREHOUSE_READERS: 'group:analysts@acme.com,user:ana@acme.com', WAREHOUSE_RAW_READERS: 'serviceAccount:etl@acme-prod-1.iam.gserviceaccount.com,domain:acme.com,user:ana@acme.com' });
});

const dataset = (synthesized: Synth, id: string) => one(synthesized, 'google_bigquery_dataset', (r) => r.dataset_id === id);
const analyticsQuery = () => (one(s, 'google_bigquery_table', (r) => r.dataset_id === 'cio_analytics' && r.table_id === 'events').view as { query: string }).query;

describe('who can read', () => {
  it('sets the raw dataset\'s access explicitly: owners, the named raw readers, and the analysts\' views', () => {
    expect(dataset(s, 'cio_webhooks').access).toEqual([
      { role: 'OWNER', special_group: 'projectOwners' },
      { role: 'READER', user_by_email: 'etl@acme-prod-1.iam.gserviceaccount.com' },
      { role: 'READER', domain: 'acme.com' },
      { role: 'READER', user_by_email: 'ana@acme.com' },
      { dataset: { dataset: { project_id: 'acme-prod-1', dataset_id: 'cio_analytics' }, target_types: ['VIEWS'] } },
    ]);
  });

  it('gives analysts the analytics dataset only', () => {
    const guard = `\${${refTo(s, 'google_service_account', (r) => r.account_id === 'cio-guard')}.email}`;
    expect(dataset(s, 'cio_analytics').access).toEqual([
      { role: 'OWNER', special_group: 'projectOwners' },
      { role: 'READER', group_by_email: 'analysts@acme.com' },
      { role: 'READER', user_by_email: 'ana@acme.com' },
      // The deliverability guard reads its table function here, never the raw dataset.
      { role: 'READER', user_by_email: guard },
    ]);
    expect(JSON.stringify(dataset(s, 'cio_webhooks').access)).not.toContain('guard');
  });

  it('leaves project Viewers and Editors out of both (no projectReaders or projectWriters entry)', () => {
    for (const id of ['cio_webhooks', 'cio_analytics']) {
      const groups = (dataset(s, id).access as Array<{ special_group?: string }>).map((a) => a.special_group).filter(Boolean);
      expect(groups).toEqual(['projectOwners']);
    }
    const plain = synth();
    const guard = `\${${refTo(plain, 'google_service_account', (r) => r.account_id === 'cio-guard')}.email}`;
    expect(dataset(plain, 'cio_analytics').access).toEqual([{ role: 'OWNER', special_group: 'projectOwners' }, { role: 'READER', user_by_email: guard }]);
  });

  it('creates the analytics dataset before the raw one, which authorizes it', () => {
    expect(dataset(s, 'cio_webhooks').depends_on).toEqual([refTo(s, 'google_bigquery_dataset', (r) => r.dataset_id === 'cio_analytics')]);
  });
});

describe('who can run queries', () => {
  const grantsOf = (synthesized: Synth) => all(synthesized, 'google_project_iam_member').filter((r) => !String(r.member).startsWith('${'));

  it('lets every reader run query jobs (BigQuery Job User at the project), once per member, and nothing else', () => {
    const grants = grantsOf(s);
    expect(grants.map((g) => g.member).sort()).toEqual(['domain:acme.com', 'group:analysts@acme.com', 'serviceAccount:etl@acme-prod-1.iam.gserviceaccount.com', 'user:ana@acme.com']);
    for (const grant of grants) expect(grant).toMatchObject({ project: 'acme-prod-1', role: 'roles/bigquery.jobUser' });
  });

  it('grants nothing to nobody: no reader, no grant', () => {
    expect(grantsOf(synth())).toEqual([]);
  });

  it('keeps a member\'s grant at the same address when the list around it changes (no churn)', () => {
    const address = (synthesized: Synth) => addressed(synthesized).find(([, r]) => r.member === 'group:analysts@acme.com')![0];
    expect(address(synth({ WAREHOUSE_READERS: 'user:zed@acme.com,group:analysts@acme.com' }))).toBe(address(s));
  });
});

describe('what analysts see', () => {
  const analyticsViews = () => all(s, 'google_bigquery_table').filter((r) => r.dataset_id === 'cio_analytics');

  it('has a decision for every column, and no raw email, recipient or subject among the columns', () => {
    expect(Object.keys(COLUMN_TREATMENT).sort()).toEqual(EVENT_COLUMNS.map((c) => c.name).sort());
    expect(ANALYTICS_COLUMNS).toContain('email_hash');
    expect(ANALYTICS_COLUMNS).toContain('recipient_hash');
    for (const raw of ['email', 'recipient', 'subject']) expect(ANALYTICS_COLUMNS).not.toContain(raw);
  });

  it('deploys exactly the generated SQL, reading the raw table and the key table, in stages', () => {
    const query = analyticsQuery();
    expect(query).toBe(analyticsEventsSql('bigquery', bigqueryNames('acme-prod-1', 'cio_webhooks')));
    expect(query).toContain('FROM `acme-prod-1.cio_webhooks.events`');
    expect(query).toContain(`FROM \`acme-prod-1.cio_webhooks.${KEY_TABLE}\`)) AS k`);
    expect([...query.matchAll(/^(?:WITH )?(\w+) AS \($/gm)].map((m) => m[1])).toEqual(['parsed', 'fields', 'texts', 'normalized', 'classified']);
  });

  it('hashes email and recipient after normalizing them, and the customer id when it is personal', () => {
    const query = analyticsQuery();
    const normalize = (x: string) => `NULLIF(TRANSLATE(TRIM(${x}, ' \\t\\n\\r'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '')`;
    const hmac = (x: string) => `TO_HEX(SHA256(k.opad || SHA256(k.ipad || CAST(${x} AS BYTES))))`;
    for (const column of ['email', 'recipient', 'customer_id']) expect(query).toContain(`${normalize(column)} AS n_column_${column}`);
    expect(query).toContain(`${hmac('n_column_email')} AS email_hash`);
    expect(query).toContain(`${hmac('n_column_recipient')} AS recipient_hash`);
    expect(query).toContain(`CASE WHEN personal_column_customer_id THEN ${hmac('n_column_customer_id')} ELSE customer_id END AS customer_id`);
    expect(query).toMatch(/\(REGEXP_CONTAINS\(n_column_customer_id, r'@'\) OR \(REGEXP_CONTAINS\(n_column_customer_id, r'\^\\\+\?\[0-9 \(\)\.-\]\+\$'\) AND LENGTH/);
    // No raw identifier passes through under its own name or another.
    expect(query).not.toMatch(/^\s+(email|recipient|subject)( AS \w+)?,?$/m);
    expect(query).not.toMatch(/\b(email|recipient|subject) AS/);
  });

  it('redacts href and failure_message with every text rule, in order', () => {
    const query = analyticsQuery();
    const href = query.split('\n').find((line) => /AS href,$/.test(line))!;
    const reason = query.split('\n').find((line) => /AS failure_message,$/.test(line))!;
    for (const line of [href, reason]) {
      const positions = TEXT_REDACTIONS.map((r) => line.indexOf(`r'${r.pattern}', r'${r.replacement}'`));
      expect(positions.every((p) => p > 0), line).toBe(true);
      // Nested calls: the innermost applies first, and its arguments come first in the text.
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    }
    expect(href).toContain(`REGEXP_REPLACE(REGEXP_REPLACE(href, r'[?#].*$', r''), r'^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@', r'\\1')`);
  });

  it('reads from the payload only the allow-listed fields, and builds it back from them alone', () => {
    const query = analyticsQuery();
    const paths = (fields: PayloadFields, prefix = ''): string[] =>
      Object.entries(fields).flatMap(([field, rule]) => {
        const path = prefix ? `${prefix}.${field}` : field;
        return typeof rule === 'object' && 'object' in rule ? paths(rule.object, path) : [path];
      });
    const read = [...query.matchAll(/JSON_QUERY\(payload_json, '\$\.([\w.]+)'\)/g)].map((m) => m[1]);
    expect(read).toEqual(paths(PAYLOAD_FIELDS));
    // The parsed payload is otherwise only defined and checked to be an object; the raw payload
    // column is parsed and never selected.
    expect(query.match(/payload_json/g)).toHaveLength(read.length + 2);
    expect(query).not.toMatch(/^\s+payload,?$/m);
    for (const left of LEFT_OUT_PAYLOAD_FIELDS) {
      const field = left.split('.').at(-1)!;
      if (field !== 'content') expect(query, left).not.toContain(`'${field}'`);
    }
    // Push recipients keep their platform, not their device token.
    expect(query).toContain(`'device_platform', CASE WHEN JSON_TYPE(JSON_QUERY(item, '$.device_platform')) IN ('string', 'number', 'boolean')`);
    expect(query).not.toContain('device_id');
    // A preference change keeps only the topics of its content.
    expect(query).toContain(`'content', CASE WHEN metric = 'cio_subscription_preferences_changed' AND JSON_TYPE(topics_data_content) = 'object'`);
    // Null members and emptied objects go; a body that is not a JSON object gives no payload.
    expect(query).toContain("IF(JSON_TYPE(payload_json) = 'object', NULLIF(TO_JSON_STRING(JSON_STRIP_NULLS(JSON_OBJECT(");
    expect(query).toContain("), remove_empty => TRUE)), 'null'), NULL) AS payload");
  });

  it('gives both payload shapes one rule per shared field', () => {
    const shared = Object.keys(PAYLOAD_SHAPES.message).filter((f) => f in PAYLOAD_SHAPES.customer);
    expect(shared.sort()).toEqual(['customer_id', 'identifiers']);
    for (const field of shared) expect((PAYLOAD_SHAPES.customer as PayloadFields)[field]).toEqual((PAYLOAD_SHAPES.message as PayloadFields)[field]);
  });

  it('keeps every analytics object on the analytics events view, never on the raw table', () => {
    for (const view of analyticsViews()) {
      const query = (view.view as { query: string }).query;
      if (view.table_id === 'events') continue;
      expect(query, String(view.table_id)).not.toContain('cio_webhooks.events');
    }
    for (const routine of all(s, 'google_bigquery_routine').filter((r) => r.dataset_id === 'cio_analytics')) {
      expect(String(routine.definition_body)).not.toContain('cio_webhooks');
    }
  });
});

describe('the pseudonym key', () => {
  const keyRef = (text: string) => text.includes('random_bytes.');
  const jobs = () => all(s, 'google_bigquery_job');

  it('appears in no view, routine, scheduled query or job, as text or as a reference to its value', () => {
    const synthesized = synth({ EVENTS_RETENTION_DAYS: '400', WAREHOUSE_READERS: 'group:analysts@acme.com' });
    const sqlBearing = [
      ...all(synthesized, 'google_bigquery_table'),
      ...all(synthesized, 'google_bigquery_routine'),
      ...all(synthesized, 'google_bigquery_data_transfer_config'),
      ...all(synthesized, 'google_bigquery_job'),
    ];
    expect(sqlBearing.length).toBeGreaterThan(10);
    for (const resource of sqlBearing) expect(keyRef(JSON.stringify(resource)), JSON.stringify(resource).slice(0, 120)).toBe(false);
    // Exactly two resources hold the key's value: its secret version and the private object.
    const holders = addressed(synthesized).filter(([, r]) => keyRef(JSON.stringify(r))).map(([address]) => address.split('.')[0]);
    expect(holders.sort()).toEqual(['google_secret_manager_secret_version', 'google_storage_bucket_object']);
    expect(keyRef(JSON.stringify(synthesized.output))).toBe(false);
    expect(keyRef(JSON.stringify((synthesized as unknown as { data?: unknown }).data ?? {}))).toBe(false);
  });

  it('is generated at one fixed address, the one the rotation procedure replaces', () => {
    expect(Object.keys(s.resource.random_bytes!)).toEqual([PSEUDONYM_KEY_ADDRESS.split('.')[1]]);
    expect(s.resource.random_bytes![PSEUDONYM_KEY_ADDRESS.split('.')[1]!]).toEqual({ length: 32 });
  });

  it('lives in a one-row table of the raw dataset, loaded from a private object by a load job', () => {
    const table = one(s, 'google_bigquery_table', (r) => r.table_id === KEY_TABLE);
    expect(table.dataset_id).toBe(`\${${refTo(s, 'google_bigquery_dataset', (r) => r.dataset_id === 'cio_webhooks')}.dataset_id}`);
    expect(table.view).toBeUndefined();
    expect(JSON.parse(String(table.schema))).toEqual([{ name: 'key_hex', type: 'STRING' }]);

    const object = one(s, 'google_storage_bucket_object', (r) => r.name === 'pseudonym-key.csv');
    expect(object.content).toBe(`\${${PSEUDONYM_KEY_ADDRESS}.hex}\n`);
    const [job] = jobs();
    expect(jobs()).toHaveLength(1);
    const bucket = refTo(s, 'google_storage_bucket', (r) => String(r.name).endsWith('-pseudonym-key'));
    expect(job!.load).toEqual({
      source_uris: [`gs://\${${bucket}.name}/\${${refTo(s, 'google_storage_bucket_object', (r) => r.name === 'pseudonym-key.csv')}.name}`],
      destination_table: { project_id: 'acme-prod-1', dataset_id: table.dataset_id, table_id: `\${${refTo(s, 'google_bigquery_table', (r) => r.table_id === KEY_TABLE)}.table_id}` },
      source_format: 'CSV',
      create_disposition: 'CREATE_NEVER',
      write_disposition: 'WRITE_TRUNCATE',
    });
    // In the dataset's location (the provider's default is US), after the object is written.
    expect(job!.location).toBe('us-central1');
    expect(job!.depends_on).toContain(refTo(s, 'google_storage_bucket_object', (r) => r.name === 'pseudonym-key.csv'));
  });

  it('fails every analytics query, loudly, while the key table does not hold exactly one key', () => {
    // The provider's load job does not wait for the load to finish nor report its failure (provider
    // issue #9826): an empty key table must not read as "no rows" to analysts and to the guard.
    const query = analyticsQuery();
    expect(query).toContain(`FROM (SELECT IF(COUNT(*) = 1, ANY_VALUE(key_hex), ERROR(CONCAT('${KEY_NOT_LOADED} (', CAST(COUNT(*) AS STRING), ' rows)'))) AS key_hex FROM \`acme-prod-1.cio_webhooks.${KEY_TABLE}\`)`);
    expect(query.split(`\`acme-prod-1.cio_webhooks.${KEY_TABLE}\``)).toHaveLength(2);
  });

  it('loads again exactly when the key\'s secret version or the table is new', () => {
    const version = refTo(s, 'google_secret_manager_secret_version', (r) => String(r.secret_data).includes('random_bytes'));
    const table = refTo(s, 'google_bigquery_table', (r) => r.table_id === KEY_TABLE);
    expect(jobs()[0]!.job_id).toBe(`cio-pseudonym-key-v\${${version}.version}-t\${${table}.creation_time}`);
  });

  it('keeps the object in a bucket only project Owners can read', () => {
    const bucket = one(s, 'google_storage_bucket', (r) => String(r.name).endsWith('-pseudonym-key'));
    expect(bucket).toMatchObject({ name: 'acme-prod-1-cio-pseudonym-key', location: 'us-central1', uniform_bucket_level_access: true, public_access_prevention: 'enforced', soft_delete_policy: { retention_duration_seconds: 0 } });
    const policy = one(s, 'google_storage_bucket_iam_policy', () => true);
    const data = (s as unknown as { data: Record<string, Record<string, { binding: unknown }>> }).data.google_iam_policy!;
    const entries = Object.entries(data) as Array<[string, { binding: Array<{ role: string; members: string[] }> }]>;
    expect(entries).toHaveLength(1);
    const [policyKey, policyData] = entries[0]!;
    expect(policy.policy_data).toBe(`\${data.google_iam_policy.${policyKey}.policy_data}`);
    expect(policyData.binding.flatMap((b) => b.members)).toEqual(['projectOwner:acme-prod-1', 'projectOwner:acme-prod-1']);
    expect(policyData.binding.map((b) => b.role)).toEqual(['roles/storage.legacyBucketOwner', 'roles/storage.legacyObjectOwner']);
    // The object is written only once the bucket's policy is the owners-only one.
    expect(one(s, 'google_storage_bucket_object', (r) => r.name === 'pseudonym-key.csv').depends_on).toEqual([refTo(s, 'google_storage_bucket_iam_policy', () => true)]);
  });

  it('reaches the handler pinned to Terraform\'s version, so a version added outside Terraform changes nothing', () => {
    const version = one(s, 'google_secret_manager_secret_version', (r) => String(r.secret_data).includes('random_bytes'));
    expect(version.secret_data).toBe(`\${${PSEUDONYM_KEY_ADDRESS}.hex}`);
    // Terraform owns the value: a disable is undone, a destroyed version comes back with the same
    // bytes; the new version exists before the old one goes.
    expect(version.lifecycle).toEqual({ create_before_destroy: true });
    const address = refTo(s, 'google_secret_manager_secret_version', (r) => String(r.secret_data).includes('random_bytes'));
    const handler = one(s, 'google_cloudfunctions2_function', (r) => r.name === 'cio-handler').service_config as { secret_environment_variables: Array<Record<string, string>> };
    expect(handler.secret_environment_variables.find((v) => v.key === 'PSEUDONYM_KEY')).toMatchObject({ version: `\${${address}.version}` });
    // The warehouse's key table is loaded from that same version's bytes.
    expect(dependenciesOf(s, `google_bigquery_job.${Object.keys(s.resource.google_bigquery_job!)[0]}`)).toContain(address);
  });
});

describe('how long', () => {
  it('keeps events by default, and with EVENTS_RETENTION_DAYS expires partitions and deletes what they miss daily', () => {
    const table = (synthesized: Synth) => one(synthesized, 'google_bigquery_table', (r) => r.table_id === 'events' && r.view === undefined);
    expect((table(s).time_partitioning as Record<string, unknown>).expiration_ms).toBeUndefined();
    expect(all(s, 'google_bigquery_data_transfer_config')).toEqual([]);

    const kept = synth({ EVENTS_RETENTION_DAYS: '400' });
    expect(table(kept).time_partitioning).toMatchObject({ type: 'DAY', field: 'event_timestamp', expiration_ms: 400 * 86_400_000 });
    const query = one(kept, 'google_bigquery_data_transfer_config', () => true);
    expect(query).toMatchObject({ data_source_id: 'scheduled_query', schedule: 'every 24 hours', location: 'us-central1' });
    expect((query.params as { query: string }).query).toBe(retentionDeleteSql('bigquery', '`acme-prod-1.cio_webhooks.events`', 400));
    expect((query.params as { query: string }).query).toBe(
      [
        'DELETE FROM `acme-prod-1.cio_webhooks.events`',
        "WHERE (event_timestamp IS NULL OR event_timestamp > TIMESTAMP_ADD(received_at, INTERVAL 1 DAY) OR event_timestamp < TIMESTAMP '1960-01-01')",
        '  AND received_at < TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 400 DAY)',
      ].join('\n'),
    );
    // It runs as its own account, which the transfer service agent (created first) may act as.
    const transferAgent = refTo(kept, 'google_project_service_identity', (r) => r.service === 'bigquerydatatransfer.googleapis.com');
    expect(dependenciesOf(kept, refTo(kept, 'google_bigquery_data_transfer_config', () => true))).toContain(transferAgent);
    expect(String(query.service_account_name)).toContain('warehouse_retention-account');
  });

  it('sets the time-travel window deliberately on both datasets', () => {
    for (const id of ['cio_webhooks', 'cio_analytics']) expect(dataset(s, id).max_time_travel_hours).toBe('48');
    expect(dataset(synth({ BIGQUERY_TIME_TRAVEL_HOURS: '168' }), 'cio_webhooks').max_time_travel_hours).toBe('168');
  });

  it('refuses a dedupe TTL shorter than the signature window, so every replay is rejected or deduplicated', () => {
    expect(() => synth({ DEDUPE_TTL_DAYS: '5' })).toThrow(/DEDUPE_TTL_DAYS \(5 days\) must outlast CIO_SIGNATURE_MAX_AGE_SECONDS/);
    const handler = one(synth({ DEDUPE_TTL_DAYS: '9' }), 'google_cloudfunctions2_function', (r) => r.name === 'cio-handler').service_config as { environment_variables: Record<string, string> };
    expect(handler.environment_variables).toMatchObject({ DEDUPE_TTL_DAYS: '9', CIO_SIGNATURE_MAX_AGE_SECONDS: '691200' });
    const receiver = one(s, 'google_cloudfunctions2_function', (r) => r.name === 'cio-receiver').service_config as { environment_variables: Record<string, string> };
    expect(receiver.environment_variables.CIO_SIGNATURE_MAX_AGE_SECONDS).toBe('691200');
  });
});

describe('the privacy page says what the code does', () => {
  const page = readFileSync(join(ROOT, 'docs/privacy.md'), 'utf8');
  const paths = (fields: PayloadFields, prefix = ''): string[] =>
    Object.entries(fields).flatMap(([field, rule]) => {
      const path = prefix ? `${prefix}.${field}` : field;
      if (typeof rule === 'object' && 'object' in rule) return paths(rule.object, path);
      if (typeof rule === 'object') return Object.keys(rule.each).map((f) => `${path}[].${f}`);
      return [path];
    });

  it('names every payload field each shape keeps, hashes or cuts, and every one left out on purpose', () => {
    for (const shape of Object.values(PAYLOAD_SHAPES) as PayloadFields[]) for (const path of paths(shape)) expect(page, path).toContain(`\`${path}\``);
    for (const left of LEFT_OUT_PAYLOAD_FIELDS) expect(page, left).toContain(`\`${left.replace(/^data\./, '')}\``);
  });

  it('shows the erasure\'s limits as the command prints them, and the rotation command for the key\'s address', () => {
    expect(page).toContain(ERASURE_LIMITS);
    expect(page).toContain(`apply -replace=${PSEUDONYM_KEY_ADDRESS}`);
    expect(page).toContain(`\`${KEY_TABLE}\``);
  });
});

describe('what the build may write', () => {
  it('scopes the build account\'s Artifact Registry write to the functions\' own repository', () => {
    expect(all(s, 'google_project_iam_member').map((r) => r.role)).not.toContain('roles/artifactregistry.writer');
    const repository = one(s, 'google_artifact_registry_repository', () => true);
    expect(repository).toMatchObject({ repository_id: 'cio-functions', format: 'DOCKER', location: 'us-central1' });
    const grants = all(s, 'google_artifact_registry_repository_iam_member');
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ role: 'roles/artifactregistry.writer', member: expect.stringContaining('functions_build') });
  });

  it('keeps the last five builds of each function and deletes images older than 30 days (deploy.md)', () => {
    const repository = one(s, 'google_artifact_registry_repository', () => true);
    // Not a dry run; KEEP wins over DELETE (artifact_registry_repository.html.markdown at v6.50.0),
    // and the provider compares durations as seconds (durationDiffSuppress), so 2592000s is 30 days.
    expect(repository.cleanup_policy_dry_run).toBe(false);
    expect(repository.cleanup_policies).toEqual([
      { id: 'delete-older-than-30-days', action: 'DELETE', condition: { older_than: '2592000s' } },
      { id: 'keep-last-5', action: 'KEEP', most_recent_versions: { keep_count: 5 } },
    ]);
  });
});
