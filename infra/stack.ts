/**
 * The whole pipeline in one stack: receiver → topic → (BigQuery subscription → events table,
 * push subscription → handler → Customer.io), dead letters, replay, dedupe store, secrets,
 * monitoring, and the deliverability guard. Every provider it uses is declared here with the version its prebuilt bindings wrap.
 */
import { GoogleProvider } from '@cdktf/provider-google/lib/provider/index.js';
import { PubsubSubscriptionIamMember } from '@cdktf/provider-google/lib/pubsub-subscription-iam-member/index.js';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member/index.js';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider/index.js';
import { RandomProvider } from '@cdktf/provider-random/lib/provider/index.js';
import { TimeProvider } from '@cdktf/provider-time/lib/provider/index.js';
import { Fn, GcsBackend, LocalBackend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { StackConfig } from './config.js';
import { DedupeStore } from './constructs/dedupe-store.js';
import { DeliverabilityGuard } from './constructs/deliverability-guard.js';
import { EventBus } from './constructs/event-bus.js';
import { PipelineFunctions } from './constructs/functions.js';
import { PipelineMonitoring } from './constructs/monitoring.js';
import { HandlerPushSubscription } from './constructs/push-subscription.js';
import { Secrets } from './constructs/secrets.js';
import { ProjectServices } from './constructs/services.js';
import { Warehouse } from './constructs/warehouse.js';
import { DEDUPE_COLLECTION, pipelineNames } from './names.js';

export { DEDUPE_COLLECTION } from './names.js';

export class PipelineStack extends TerraformStack {
  constructor(scope: Construct, id: string, config: StackConfig) {
    super(scope, id);
    const { project, region, prefix } = config;
    const names = pipelineNames(prefix);
    new GoogleProvider(this, 'google', { project, region });
    // google_project_service_identity exists only in google-beta (same version as google).
    const betaProvider = new GoogleBetaProvider(this, 'google-beta', { project, region });
    const timeProvider = new TimeProvider(this, 'time');
    new RandomProvider(this, 'random');
    if (config.stateBucket) new GcsBackend(this, { bucket: config.stateBucket, prefix: `cio-webhooks/${id}` });
    // Relative to cdktf.out/stacks/<id>: the state file sits at the project root, outside cdktf.out.
    else new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });

    const apis = new ProjectServices(this, 'services', { project, betaProvider, retention: config.eventsRetentionDays !== null });
    const services = apis.services;
    const pubsubAgent = apis.pubsubAgent;

    const bus = new EventBus(this, 'event-bus', { project, prefix, retentionDays: config.retentionDays, dependsOn: services });
    const secrets = new Secrets(this, 'secrets', { project, prefix, workspaces: config.workspaces, deletionProtection: config.deletionProtection, dependsOn: services });
    const dedupe = new DedupeStore(this, 'dedupe-store', {
      project,
      databaseId: names.dedupeDatabase,
      location: config.firestoreLocation,
      collection: DEDUPE_COLLECTION,
      deletionProtection: config.deletionProtection,
      dependsOn: services,
    });
    const warehouse = new Warehouse(this, 'warehouse', {
      project,
      region,
      prefix,
      deletionProtection: config.deletionProtection,
      eventsRetentionDays: config.eventsRetentionDays,
      timeTravelHours: config.timeTravelHours,
      readers: config.warehouseReaders,
      rawReaders: config.warehouseRawReaders,
      topic: bus.topic,
      deadLetterTopic: bus.deadLetterTopic,
      pubsubAgent,
      transferAgent: apis.transferAgent,
      pseudonymKeyHex: secrets.pseudonymKeyHex,
      pseudonymKeyVersion: secrets.pseudonymKeyVersion,
      timeProvider,
      dependsOn: services,
    });
    const functions = new PipelineFunctions(this, 'functions', {
      project,
      region,
      prefix,
      bundleDir: config.bundleDir,
      topic: bus.topic,
      secrets,
      dedupe,
      cioRegion: config.cioRegion,
      workspaces: config.workspaces,
      policy: config.policy,
      dedupeCollection: DEDUPE_COLLECTION,
      receiverMinInstances: config.receiverMinInstances,
      receiverMaxInstances: config.receiverMaxInstances,
      handlerMaxInstances: config.handlerMaxInstances,
      handlerConcurrency: config.handlerConcurrency,
      cioRequestsPerInstance: config.cioRequestsPerInstance,
      signatureMaxAgeSeconds: config.signatureMaxAgeSeconds,
      dedupeTtlDays: config.dedupeTtlDays,
      receiverAccess: config.receiverAccess,
      timeProvider,
      // The table (and any schema change to it) applies before code that writes new fields:
      // drop_unknown_fields would otherwise drop them silently until the table caught up.
      dependsOn: [...services, warehouse.table],
    });
    const push = new HandlerPushSubscription(this, 'push', {
      project,
      prefix,
      topic: bus.topic,
      replayTopic: bus.replayTopic,
      deadLetterTopic: bus.deadLetterTopic,
      handler: functions.handler,
      pushInvoker: functions.pushInvoker,
      policy: config.policy,
      pubsubAgent,
    });

    // Dead-lettering: the service agent publishes to the DLQ topic and acks on the source subscriptions.
    new PubsubTopicIamMember(this, 'agent-dlq-publisher', { project, topic: bus.deadLetterTopic.name, role: 'roles/pubsub.publisher', member: pubsubAgent });
    const sources = [['push', push.subscription], ['replay', push.replaySubscription], ['bigquery', warehouse.subscription]] as const;
    for (const [key, subscription] of sources) {
      new PubsubSubscriptionIamMember(this, `agent-${key}-subscriber`, { project, subscription: subscription.name, role: 'roles/pubsub.subscriber', member: pubsubAgent });
    }

    const monitoring = new PipelineMonitoring(this, 'monitoring', {
      project,
      prefix,
      receiverService: functions.receiver.name,
      handlerService: functions.handler.name,
      pushSubscription: push.subscription.name,
      bigquerySubscription: warehouse.subscription.name,
      deadLetterSubscription: bus.deadLetterSubscription.name,
      alertEmail: config.alertEmail,
      workspaces: config.workspaces !== null,
      receiverAccess: config.receiverAccess,
      dependsOn: services,
    });
    new DeliverabilityGuard(this, 'deliverability-guard', {
      project,
      region,
      prefix,
      functions,
      warehouse,
      deliverability: config.deliverability,
      intervalMinutes: config.guard.intervalMinutes,
      maxGb: config.guard.maxGb,
      notificationChannels: monitoring.notificationChannels,
      workspaces: config.workspaces !== null,
      dependsOn: services,
    });

    const receiverUrl = functions.receiver.serviceConfig.uri;
    if (config.workspaces === null) {
      new TerraformOutput(this, 'receiver_url', { value: receiverUrl, description: 'Paste into Customer.io: Reporting Webhooks > URL' });
    } else {
      // With several workspaces the receiver answers on /<workspace> only: each workspace's reporting
      // webhook posts to its own path, and is verified with that workspace's signing keys alone.
      new TerraformOutput(this, 'receiver_url', { value: receiverUrl, description: 'The receiver; Customer.io posts to the workspace_urls, not here' });
      new TerraformOutput(this, 'workspace_urls', {
        value: Object.fromEntries(config.workspaces.map((w) => [w.name, `${receiverUrl}/${w.name}`])),
        description: `Paste each URL into its own Customer.io workspace (Reporting Webhooks > URL), and that webhook's signing key into the workspace's secret, ${prefix}-<workspace>-webhook-signing-keys (signing_keys_secrets)`,
      });
    }
    new TerraformOutput(this, 'events_table', { value: warehouse.tableId });
    new TerraformOutput(this, 'analytics_dataset', { value: `${project}.${names.analyticsDataset}`, description: 'Pseudonymized views for analysts' });
    new TerraformOutput(this, 'topic', { value: bus.topic.name });
    new TerraformOutput(this, 'push_subscription', { value: push.subscription.name });
    new TerraformOutput(this, 'bigquery_subscription', { value: warehouse.subscription.name });
    new TerraformOutput(this, 'dead_letter_subscription', { value: bus.deadLetterSubscription.name });
    new TerraformOutput(this, 'replay_topic', { value: bus.replayTopic.name });
    new TerraformOutput(this, 'dedupe_database', { value: dedupe.database.name });
    if (config.workspaces === null) new TerraformOutput(this, 'signing_keys_secret', { value: secrets.workspaces[0]!.signingKeys.secretId });
    else new TerraformOutput(this, 'signing_keys_secrets', { value: Object.fromEntries(secrets.workspaces.map((w) => [w.workspace!.name, w.signingKeys.secretId])), description: 'Each workspace\'s signing-keys secret' });
    new TerraformOutput(this, 'dashboard_url', {
      value: `https://console.cloud.google.com/monitoring/dashboards/builder/${Fn.element(Fn.split('/', monitoring.dashboard.id), 3)}?project=${project}`,
    });
  }
}
