import { BigqueryDataset } from '@cdktf/provider-google/lib/bigquery-dataset/index.js';
import { BigqueryTable } from '@cdktf/provider-google/lib/bigquery-table/index.js';
import { BigqueryTableIamMember } from '@cdktf/provider-google/lib/bigquery-table-iam-member/index.js';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription/index.js';
import type { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { CLUSTERING_COLUMNS, PARTITION_COLUMN, TABLE_COLUMNS } from '../../shared/row.js';
import { pipelineNames } from '../names.js';
import { viewSql } from '../sql.js';
import { TIMING } from '../timing.js';

export interface WarehouseProps {
  project: string;
  region: string;
  prefix: string;
  retentionDays: number;
  deletionProtection: boolean;
  topic: PubsubTopic;
  deadLetterTopic: PubsubTopic;
  /** serviceAccount:service-NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com */
  pubsubServiceAgent: string;
  dependsOn?: ITerraformDependable[];
}

/** The BigQuery table schema, generated from the shared row definition (plus metadata columns). */
export function eventsTableSchema() {
  return TABLE_COLUMNS.map(({ name, type, mode, description }) => ({ name, type, mode, description }));
}

/**
 * The `events` table, its views, and the BigQuery subscription that writes every message into it.
 * The table schema and the row the receiver publishes come from the same definition (shared/row.ts).
 */
export class Warehouse extends Construct {
  readonly dataset: BigqueryDataset;
  readonly table: BigqueryTable;
  readonly subscription: PubsubSubscription;
  readonly tableId: string;

  constructor(scope: Construct, id: string, props: WarehouseProps) {
    super(scope, id);
    const { project, region, prefix, pubsubServiceAgent } = props;
    const datasetId = pipelineNames(prefix).dataset;
    this.dataset = new BigqueryDataset(this, 'dataset', {
      project,
      datasetId,
      location: region,
      description: 'Customer.io reporting webhook events',
      // Only an explicit DELETION_PROTECTION=0 deploy lets destroy take the data with it.
      deleteContentsOnDestroy: !props.deletionProtection,
      dependsOn: props.dependsOn,
    });
    this.table = new BigqueryTable(this, 'events', {
      project,
      datasetId,
      tableId: 'events',
      description: 'Every accepted Customer.io reporting webhook, written by the Pub/Sub BigQuery subscription (at-least-once; see events_unique)',
      schema: JSON.stringify(eventsTableSchema()),
      timePartitioning: { type: 'DAY', field: PARTITION_COLUMN },
      clustering: [...CLUSTERING_COLUMNS],
      deletionProtection: props.deletionProtection,
      dependsOn: [this.dataset],
    });
    this.tableId = `${project}.${datasetId}.events`;
    const names = { events: `\`${project}.${datasetId}.events\``, events_unique: `\`${project}.${datasetId}.events_unique\`` };
    const unique = new BigqueryTable(this, 'events-unique', {
      project,
      datasetId,
      tableId: 'events_unique',
      description: 'One row per event_id (earliest publish_time)',
      view: { query: viewSql('events_unique', names), useLegacySql: false },
      deletionProtection: false,
      dependsOn: [this.table],
    });
    new BigqueryTable(this, 'daily-funnel', {
      project,
      datasetId,
      tableId: 'daily_funnel',
      description: 'Daily funnel per campaign/broadcast/newsletter, human vs machine opens and clicks',
      view: { query: viewSql('daily_funnel', names), useLegacySql: false },
      deletionProtection: false,
      dependsOn: [unique],
    });

    // The Pub/Sub service agent writes the rows.
    const grants = ['roles/bigquery.dataEditor', 'roles/bigquery.metadataViewer'].map(
      (role) =>
        new BigqueryTableIamMember(this, `agent-${role.split('.')[1]}`, {
          project,
          datasetId,
          tableId: this.table.tableId,
          role,
          member: pubsubServiceAgent,
        }),
    );

    this.subscription = new PubsubSubscription(this, 'bigquery-subscription', {
      project,
      name: pipelineNames(prefix).bigquerySubscription,
      topic: props.topic.id,
      bigqueryConfig: {
        table: this.tableId,
        useTableSchema: true,
        writeMetadata: true,
        // A column added to the row before the table would otherwise block the whole backlog;
        // the raw payload column still holds every field.
        dropUnknownFields: true,
      },
      deadLetterPolicy: { deadLetterTopic: props.deadLetterTopic.id, maxDeliveryAttempts: TIMING.maxDeliveryAttempts },
      retryPolicy: { minimumBackoff: TIMING.retryMinimumBackoff, maximumBackoff: TIMING.retryMaximumBackoff },
      // Seeking this subscription back re-writes rows: the dedupe view absorbs the duplicates.
      retainAckedMessages: true,
      messageRetentionDuration: `${Math.min(7, props.retentionDays) * 86_400}s`,
      expirationPolicy: { ttl: '' },
      dependsOn: grants,
    });
  }
}
