/**
 * Personal data under control, on the synthesized JSON (issue #13): who can read the warehouse, what
 * analysts see, how long data lives, and what the build may write.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_COLUMNS } from '../../shared/row.js';
import { ANALYTICS_COLUMNS, COLUMN_TREATMENT, REDACTED_PAYLOAD_FIELDS, analyticsEventsSql } from '../../infra/privacy.js';
import { bigqueryNames } from '../../infra/sql.js';
import { type Synth, all, dependenciesOf, one, refTo, synth } from '../support/synth.js';

let s: Synth;
beforeAll(() => {
  s = synth({ WAREHOUSE_READERS: 'group:analysts@acme.com,user:ana@acme.com', WAREHOUSE_RAW_READERS: 'serviceAccount:etl@acme-prod-1.iam.gserviceaccount.com,domain:acme.com' });
});

const dataset = (synthesized: Synth, id: string) => one(synthesized, 'google_bigquery_dataset', (r) => r.dataset_id === id);

describe('who can read', () => {
  it('sets the raw dataset\'s access explicitly: owners, the named raw readers, and the analysts\' views', () => {
    expect(dataset(s, 'cio_webhooks').access).toEqual([
      { role: 'OWNER', special_group: 'projectOwners' },
      { role: 'READER', user_by_email: 'etl@acme-prod-1.iam.gserviceaccount.com' },
      { role: 'READER', domain: 'acme.com' },
      { dataset: { dataset: { project_id: 'acme-prod-1', dataset_id: 'cio_analytics' }, target_types: ['VIEWS'] } },
    ]);
  });

  it('gives analysts the analytics dataset only', () => {
    expect(dataset(s, 'cio_analytics').access).toEqual([
      { role: 'OWNER', special_group: 'projectOwners' },
      { role: 'READER', group_by_email: 'analysts@acme.com' },
      { role: 'READER', user_by_email: 'ana@acme.com' },
    ]);
  });

  it('leaves project Viewers and Editors out of both (no projectReaders or projectWriters entry)', () => {
    for (const id of ['cio_webhooks', 'cio_analytics']) {
      const groups = (dataset(s, id).access as Array<{ special_group?: string }>).map((a) => a.special_group).filter(Boolean);
      expect(groups).toEqual(['projectOwners']);
    }
    expect(dataset(synth(), 'cio_analytics').access).toEqual([{ role: 'OWNER', special_group: 'projectOwners' }]);
  });

  it('creates the analytics dataset before the raw one, which authorizes it', () => {
    expect(dataset(s, 'cio_webhooks').depends_on).toEqual([refTo(s, 'google_bigquery_dataset', (r) => r.dataset_id === 'cio_analytics')]);
  });
});

describe('what analysts see', () => {
  const analyticsViews = () => all(s, 'google_bigquery_table').filter((r) => r.dataset_id === 'cio_analytics');

  it('has a decision for every column, and no raw email or recipient in the analytics view', () => {
    expect(Object.keys(COLUMN_TREATMENT).sort()).toEqual(EVENT_COLUMNS.map((c) => c.name).sort());
    expect(ANALYTICS_COLUMNS).toContain('email_hash');
    expect(ANALYTICS_COLUMNS).toContain('recipient_hash');
    for (const raw of ['email', 'recipient', 'subject']) expect(ANALYTICS_COLUMNS).not.toContain(raw);
  });

  it('builds the analytics events view from the raw table and the key, hashing with HMAC pads', () => {
    const view = one(s, 'google_bigquery_table', (r) => r.dataset_id === 'cio_analytics' && r.table_id === 'events');
    const query = (view.view as { query: string }).query;
    expect(query).toBe(analyticsEventsSql('bigquery', bigqueryNames('acme-prod-1', 'cio_webhooks')));
    expect(query).toContain('TO_HEX(SHA256(k.opad || SHA256(k.ipad || CAST(e.email AS BYTES)))) AS email_hash');
    expect(query).toContain('CROSS JOIN `acme-prod-1.cio_webhooks.pseudonym_key` AS k');
    for (const path of REDACTED_PAYLOAD_FIELDS) expect(query).toContain(`'$.${path.join('.')}'`);
    // Every selected column is aliased to an analytics name: nothing passes through as a raw identifier.
    expect(query).not.toMatch(/\be\.email\s+AS\s+email\b|\be\.recipient,|\be\.subject\b/);
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

  it('derives the key view from the generated key and keeps it in the raw dataset', () => {
    const key = one(s, 'google_bigquery_table', (r) => r.table_id === 'pseudonym_key');
    expect(key.dataset_id).toBe('cio_webhooks');
    const bytes = refTo(s, 'random_bytes', () => true);
    expect((key.view as { query: string }).query).toContain(`FROM_HEX('\${${bytes}.hex}')`);
    expect((key.view as { query: string }).query).toContain("^ REPEAT(b'\\x36', 64) AS ipad");
  });
});

describe('how long', () => {
  it('keeps events by default, and with EVENTS_RETENTION_DAYS expires partitions and deletes undated rows daily', () => {
    const table = (synthesized: Synth) => one(synthesized, 'google_bigquery_table', (r) => r.table_id === 'events' && r.view === undefined);
    expect((table(s).time_partitioning as Record<string, unknown>).expiration_ms).toBeUndefined();
    expect(all(s, 'google_bigquery_data_transfer_config')).toEqual([]);

    const kept = synth({ EVENTS_RETENTION_DAYS: '400' });
    expect(table(kept).time_partitioning).toMatchObject({ type: 'DAY', field: 'event_timestamp', expiration_ms: 400 * 86_400_000 });
    const query = one(kept, 'google_bigquery_data_transfer_config', () => true);
    expect(query).toMatchObject({ data_source_id: 'scheduled_query', schedule: 'every 24 hours', location: 'us-central1' });
    expect((query.params as { query: string }).query).toBe(
      'DELETE FROM `acme-prod-1.cio_webhooks.events` WHERE event_timestamp IS NULL AND received_at < TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 400 DAY)',
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

describe('what the build may write', () => {
  it('scopes the build account\'s Artifact Registry write to the functions\' own repository', () => {
    expect(all(s, 'google_project_iam_member').map((r) => r.role)).not.toContain('roles/artifactregistry.writer');
    const repository = one(s, 'google_artifact_registry_repository', () => true);
    expect(repository).toMatchObject({ repository_id: 'cio-functions', format: 'DOCKER', location: 'us-central1' });
    const grants = all(s, 'google_artifact_registry_repository_iam_member');
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ role: 'roles/artifactregistry.writer', member: expect.stringContaining('functions_build') });
  });
});
