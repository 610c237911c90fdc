import { BigqueryDataTransferConfig } from '@cdktf/provider-google/lib/bigquery-data-transfer-config/index.js';
import { BigqueryDataset, type BigqueryDatasetAccess } from '@cdktf/provider-google/lib/bigquery-dataset/index.js';
import { BigqueryRoutine } from '@cdktf/provider-google/lib/bigquery-routine/index.js';
import { BigqueryTable } from '@cdktf/provider-google/lib/bigquery-table/index.js';
import { BigqueryTableIamMember } from '@cdktf/provider-google/lib/bigquery-table-iam-member/index.js';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member/index.js';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription/index.js';
import type { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic/index.js';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account/index.js';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member/index.js';
import { Sleep } from '@cdktf/provider-time/lib/sleep/index.js';
import type { TimeProvider } from '@cdktf/provider-time/lib/provider/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { CLUSTERING_COLUMNS, PARTITION_COLUMN, TABLE_COLUMNS } from '../../shared/row.js';
import { pipelineNames } from '../names.js';
import { analyticsEventsSql, pseudonymKeySql } from '../privacy.js';
import { DERIVED_OBJECT_NAMES, DERIVED_OBJECTS, TABLE_FUNCTION_ARGUMENTS, bigqueryNames, derivedSql } from '../sql.js';
import { IAM_PROPAGATION_WAIT, TIMING } from '../timing.js';

export interface WarehouseProps {
  project: string;
  region: string;
  prefix: string;
  deletionProtection: boolean;
  eventsRetentionDays: number | null;
  timeTravelHours: number;
  /** IAM members reading the pseudonymized analytics dataset. */
  readers: string[];
  /** IAM members reading the raw dataset (addresses, payloads). */
  rawReaders: string[];
  topic: PubsubTopic;
  deadLetterTopic: PubsubTopic;
  /** The Pub/Sub service agent's member, from the resource that makes sure it exists. */
  pubsubAgent: string;
  /** The BigQuery Data Transfer service agent's member (with retention only). */
  transferAgent: string | null;
  /** The pseudonym key as hex (a reference to the generated secret value). */
  pseudonymKeyHex: string;
  timeProvider: TimeProvider;
  dependsOn?: ITerraformDependable[];
}

/** The BigQuery table schema, generated from the shared row definition (plus metadata columns). */
export function eventsTableSchema() {
  return TABLE_COLUMNS.map(({ name, type, mode, description }) => ({ name, type, mode, description }));
}

/** A dataset access entry for an IAM member (user:, group:, serviceAccount:, domain:). */
export function datasetAccessFor(member: string, role: 'READER' | 'WRITER' | 'OWNER'): BigqueryDatasetAccess {
  const [kind, id] = [member.slice(0, member.indexOf(':')), member.slice(member.indexOf(':') + 1)];
  switch (kind) {
    case 'group':
      return { role, groupByEmail: id };
    case 'domain':
      return { role, domain: id };
    default:
      // Users and service accounts are both userByEmail in a dataset's access list.
      return { role, userByEmail: id };
  }
}

const DAY_MS = 86_400_000;

/**
 * The `events` table, its derived objects, the analysts' pseudonymized dataset, and the BigQuery
 * subscription that writes every message into the table. The schema and the row the receiver
 * publishes come from one definition (shared/row.ts).
 *
 * Access is explicit, not inherited from project roles: the raw dataset (addresses, whole payloads)
 * is read by its owners and WAREHOUSE_RAW_READERS; analysts (WAREHOUSE_READERS) read the analytics
 * dataset, whose views the raw dataset authorizes (an authorized dataset), so they query the data
 * without being able to read the raw table or the key. A project Viewer reads neither.
 */
export class Warehouse extends Construct {
  readonly dataset: BigqueryDataset;
  readonly analyticsDataset: BigqueryDataset;
  readonly table: BigqueryTable;
  readonly subscription: PubsubSubscription;
  readonly tableId: string;

  constructor(scope: Construct, id: string, props: WarehouseProps) {
    super(scope, id);
    const { project, region, prefix, pubsubAgent } = props;
    const names = pipelineNames(prefix);
    const owners: BigqueryDatasetAccess = { role: 'OWNER', specialGroup: 'projectOwners' };
    const dataset = (key: string, datasetId: string, description: string, access: BigqueryDatasetAccess[], deleteContents: boolean, dependsOn?: ITerraformDependable[]) =>
      new BigqueryDataset(this, key, {
        project,
        datasetId,
        location: region,
        description,
        access,
        // Deleted and changed rows (an erasure too) stay recoverable for this long, then 7 days in
        // fail-safe storage that only Google support can reach. Set, not left at the 7-day default.
        maxTimeTravelHours: String(props.timeTravelHours),
        deleteContentsOnDestroy: deleteContents,
        dependsOn,
      });

    this.analyticsDataset = dataset(
      'analytics-dataset',
      names.analyticsDataset,
      'Customer.io events for analysts: keyed hashes instead of addresses, no message content',
      [owners, ...props.readers.map((m) => datasetAccessFor(m, 'READER'))],
      // Views only: they are derived from the raw table and cost nothing to recreate.
      true,
      props.dependsOn,
    );
    this.dataset = dataset(
      'dataset',
      names.dataset,
      'Customer.io reporting webhook events, raw: email addresses, recipients and whole payloads',
      [
        owners,
        ...props.rawReaders.map((m) => datasetAccessFor(m, 'READER')),
        // The analysts' views may read this dataset on their behalf.
        { dataset: { dataset: { projectId: project, datasetId: names.analyticsDataset }, targetTypes: ['VIEWS'] } },
      ],
      // Only an explicit DELETION_PROTECTION=0 deploy lets destroy take the data with it.
      !props.deletionProtection,
      [this.analyticsDataset],
    );

    this.table = new BigqueryTable(this, 'events', {
      project,
      datasetId: this.dataset.datasetId,
      tableId: 'events',
      description: 'Every accepted Customer.io reporting webhook, written by the Pub/Sub BigQuery subscription (at-least-once; see events_unique)',
      schema: JSON.stringify(eventsTableSchema()),
      timePartitioning: {
        type: 'DAY',
        field: PARTITION_COLUMN,
        // Rows without an event_timestamp sit in the __NULL__ partition, which never expires:
        // the scheduled query below removes those.
        ...(props.eventsRetentionDays ? { expirationMs: props.eventsRetentionDays * DAY_MS } : {}),
      },
      clustering: [...CLUSTERING_COLUMNS],
      deletionProtection: props.deletionProtection,
    });
    this.tableId = `${project}.${names.dataset}.events`;

    const raw = bigqueryNames(project, names.dataset);
    const analytics = bigqueryNames(project, names.analyticsDataset);
    const view = (key: string, datasetId: string, tableId: string, description: string, query: string, dependsOn: ITerraformDependable[]) =>
      new BigqueryTable(this, key, { project, datasetId, tableId, description, view: { query, useLegacySql: false }, deletionProtection: false, dependsOn });

    // The derived objects, once over the raw table and once over the analysts' view of it.
    const derive = (keyPrefix: string, datasetId: string, resolve: typeof raw, base: ITerraformDependable) => {
      let previous: ITerraformDependable[] = [base];
      for (const name of DERIVED_OBJECT_NAMES) {
        const definition = DERIVED_OBJECTS[name];
        const created =
          definition.kind === 'view'
            ? view(`${keyPrefix}${name}`, datasetId, name, definition.description, derivedSql(name, resolve), previous)
            : new BigqueryRoutine(this, `${keyPrefix}${name}`, {
                project,
                datasetId,
                routineId: name,
                routineType: 'TABLE_VALUED_FUNCTION',
                language: 'SQL',
                description: definition.description,
                definitionBody: derivedSql(name, resolve),
                arguments: TABLE_FUNCTION_ARGUMENTS.map((a) => ({ name: a.name, argumentKind: 'FIXED_TYPE', dataType: JSON.stringify({ typeKind: a.type }) })),
                dependsOn: previous,
              });
        previous = [...previous, created];
      }
    };
    derive('', names.dataset, raw, this.table);

    const key = view('pseudonym-key', names.dataset, 'pseudonym_key', 'HMAC pads of the pseudonym key (raw readers only)', pseudonymKeySql('bigquery', props.pseudonymKeyHex), [this.dataset]);
    const analyticsEvents = view('analytics-events', names.analyticsDataset, 'events', 'Events without raw identifiers or message content (see infra/privacy.ts)', analyticsEventsSql('bigquery', raw), [this.table, key, this.analyticsDataset]);
    derive('analytics-', names.analyticsDataset, analytics, analyticsEvents);

    // The Pub/Sub service agent writes the rows. Pub/Sub checks these grants when the BigQuery
    // subscription is created, and IAM takes a while to propagate: the subscription waits.
    const grants = ['roles/bigquery.dataEditor', 'roles/bigquery.metadataViewer'].map(
      (role) =>
        new BigqueryTableIamMember(this, `agent-${role.split('.')[1]}`, {
          project,
          datasetId: this.dataset.datasetId,
          tableId: this.table.tableId,
          role,
          member: pubsubAgent,
        }),
    );
    const grantsSettled = new Sleep(this, 'agent-grants-propagated', { provider: props.timeProvider, createDuration: IAM_PROPAGATION_WAIT, dependsOn: grants });

    this.subscription = new PubsubSubscription(this, 'bigquery-subscription', {
      project,
      name: names.bigquerySubscription,
      topic: props.topic.id,
      bigqueryConfig: {
        table: this.tableId,
        useTableSchema: true,
        writeMetadata: true,
        // A field the table does not have yet is dropped (the raw payload column still holds it)
        // instead of blocking the whole backlog; the stack applies table changes before the
        // functions that write new fields, so nothing is dropped in a normal rollout.
        dropUnknownFields: true,
      },
      deadLetterPolicy: { deadLetterTopic: props.deadLetterTopic.id, maxDeliveryAttempts: TIMING.maxDeliveryAttempts },
      retryPolicy: { minimumBackoff: TIMING.retryMinimumBackoff, maximumBackoff: TIMING.retryMaximumBackoff },
      expirationPolicy: { ttl: '' },
      dependsOn: [grantsSettled],
    });

    if (props.eventsRetentionDays && props.transferAgent) this.expireUndatedRows(props, props.transferAgent, props.eventsRetentionDays);
  }

  /**
   * Partition expiration never reaches rows without an event_timestamp (test sends, bodies that are
   * not JSON): a daily scheduled query deletes those older than the retention, by received_at.
   */
  private expireUndatedRows(props: WarehouseProps, transferAgent: string, days: number): void {
    const { project, prefix } = props;
    const account = new ServiceAccount(this, 'retention-account', { project, accountId: `${prefix}-retention`, displayName: 'Deletes undated events past retention' });
    const grants: ITerraformDependable[] = [
      new BigqueryTableIamMember(this, 'retention-editor', { project, datasetId: this.dataset.datasetId, tableId: this.table.tableId, role: 'roles/bigquery.dataEditor', member: account.member }),
      new ProjectIamMember(this, 'retention-job-user', { project, role: 'roles/bigquery.jobUser', member: account.member }),
      // The transfer service mints the account's tokens to run the query as it.
      new ServiceAccountIamMember(this, 'transfer-agent-token-creator', { serviceAccountId: account.name, role: 'roles/iam.serviceAccountTokenCreator', member: transferAgent }),
    ];
    new BigqueryDataTransferConfig(this, 'expire-undated-rows', {
      project,
      location: props.region,
      displayName: `${prefix}: delete undated events older than ${days} days`,
      dataSourceId: 'scheduled_query',
      schedule: 'every 24 hours',
      serviceAccountName: account.email,
      params: {
        query: `DELETE FROM \`${this.tableId}\` WHERE event_timestamp IS NULL AND received_at < TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL ${days} DAY)`,
      },
      dependsOn: grants,
    });
  }
}
