import { resolve } from 'node:path';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function/index.js';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member/index.js';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member/index.js';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member/index.js';
import type { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic/index.js';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member/index.js';
import type { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret/index.js';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account/index.js';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket/index.js';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member/index.js';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object/index.js';
import { AssetType, TerraformAsset, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { SETTINGS, type PolicyConfig } from '../../shared/config.js';
import { pipelineNames } from '../names.js';
import { TIMING } from '../timing.js';
import type { Secrets } from './secrets.js';

export const TRACK_API_URLS = { us: 'https://track.customer.io/api/v1', eu: 'https://track-eu.customer.io/api/v1' } as const;

export interface PipelineFunctionsProps {
  project: string;
  region: string;
  prefix: string;
  bundleDir: string;
  topic: PubsubTopic;
  secrets: Secrets;
  cioRegion: 'us' | 'eu';
  policy: PolicyConfig;
  dedupeCollection: string;
  receiverMinInstances: number;
  receiverMaxInstances: number;
  handlerMaxInstances: number;
  handlerConcurrency: number;
  dependsOn?: ITerraformDependable[];
}

/**
 * Both functions from one bundle, each with its own least-privilege service account: the receiver
 * may publish to the topic and read the signing keys; the handler may use Firestore and read the
 * Track API credentials; the push invoker may only invoke the handler.
 */
export class PipelineFunctions extends Construct {
  readonly receiver: Cloudfunctions2Function;
  readonly handler: Cloudfunctions2Function;
  readonly receiverAccount: ServiceAccount;
  readonly handlerAccount: ServiceAccount;
  readonly pushInvoker: ServiceAccount;
  readonly buildAccount: ServiceAccount;

  constructor(scope: Construct, id: string, props: PipelineFunctionsProps) {
    super(scope, id);
    const { project, region, prefix, secrets, policy } = props;
    const account = (key: string, displayName: string) =>
      new ServiceAccount(this, key, { project, accountId: `${prefix}-${key}`, displayName, dependsOn: props.dependsOn });
    this.receiverAccount = account('receiver', 'Customer.io webhook receiver');
    this.handlerAccount = account('handler', 'Customer.io webhook handler');
    this.pushInvoker = account('push-invoker', 'Pub/Sub push to the handler');
    this.buildAccount = account('build', 'Builds the webhook functions');

    // The bundle (npm run build) is zipped at synth; its content hash names the object, so every
    // code change is a new object and a new function revision, and nothing else is.
    const bundle = new TerraformAsset(this, 'bundle', { path: resolve(props.bundleDir), type: AssetType.ARCHIVE });
    const bucket = new StorageBucket(this, 'source', {
      project,
      name: `${project}-${prefix}-functions-src`,
      location: region,
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      forceDestroy: true,
      dependsOn: props.dependsOn,
    });
    const source = new StorageBucketObject(this, 'bundle-object', {
      bucket: bucket.name,
      name: `functions-${bundle.assetHash}.zip`,
      source: bundle.path,
    });

    const buildGrants: ITerraformDependable[] = [
      new StorageBucketIamMember(this, 'build-source-reader', { bucket: bucket.name, role: 'roles/storage.objectViewer', member: this.buildAccount.member }),
      ...['roles/logging.logWriter', 'roles/artifactregistry.writer'].map(
        (role) => new ProjectIamMember(this, `build-${role.split('.')[1]}`, { project, role, member: this.buildAccount.member }),
      ),
    ];

    const secretReader = (key: string, secret: SecretManagerSecret, sa: ServiceAccount) =>
      new SecretManagerSecretIamMember(this, key, { project, secretId: secret.secretId, role: 'roles/secretmanager.secretAccessor', member: sa.member });
    const secretEnv = (key: string, secret: SecretManagerSecret) => ({ key, projectId: project, secret: secret.secretId, version: 'latest' });

    const receiverGrants = [
      new PubsubTopicIamMember(this, 'receiver-publisher', { project, topic: props.topic.name, role: 'roles/pubsub.publisher', member: this.receiverAccount.member }),
      secretReader('receiver-signing-keys', secrets.signingKeys, this.receiverAccount),
    ];
    const handlerGrants = [
      // Firestore IAM is project-wide; datastore.user is its narrowest read/write role.
      new ProjectIamMember(this, 'handler-firestore', { project, role: 'roles/datastore.user', member: this.handlerAccount.member }),
      secretReader('handler-site-id', secrets.siteId, this.handlerAccount),
      secretReader('handler-track-api-key', secrets.trackApiKey, this.handlerAccount),
    ];

    const buildConfig = (entryPoint: string) => ({
      runtime: 'nodejs22',
      entryPoint,
      serviceAccount: this.buildAccount.id,
      source: { storageSource: { bucket: bucket.name, object: source.name } },
    });

    // What both services share: one CPU (needed for request concurrency), public ingress with IAM
    // deciding who may invoke, every request on the newest revision, and the base environment.
    const service = { availableCpu: '1', availableMemory: '512Mi', ingressSettings: 'ALLOW_ALL', allTrafficOnLatestRevision: true };
    const baseEnv = { NODE_ENV: 'production', GOOGLE_CLOUD_PROJECT: project, LOG_LEVEL: SETTINGS.logLevel.default };

    this.receiver = new Cloudfunctions2Function(this, 'receiver-function', {
      project,
      location: region,
      name: pipelineNames(prefix).receiver,
      description: 'Verifies Customer.io reporting webhooks and publishes them to Pub/Sub',
      buildConfig: buildConfig('receiver'),
      serviceConfig: {
        serviceAccountEmail: this.receiverAccount.email,
        // Warm instances keep cold starts off Customer.io's 4-second clock.
        minInstanceCount: props.receiverMinInstances,
        maxInstanceCount: props.receiverMaxInstances,
        maxInstanceRequestConcurrency: 80,
        timeoutSeconds: TIMING.receiverTimeoutSeconds,
        ...service,
        environmentVariables: {
          ...baseEnv,
          PUBSUB_TOPIC: props.topic.name,
          CIO_SIGNATURE_MAX_AGE_SECONDS: SETTINGS.maxAgeSeconds.default,
          RECEIVER_MAX_BODY_BYTES: SETTINGS.maxBodyBytes.default,
          RECEIVER_PUBLISH_TIMEOUT_MS: String(TIMING.receiverPublishTimeoutMs),
        },
        secretEnvironmentVariables: [secretEnv('CIO_WEBHOOK_SIGNING_KEYS', secrets.signingKeys)],
      },
      dependsOn: [...buildGrants, ...receiverGrants],
    });

    this.handler = new Cloudfunctions2Function(this, 'handler-function', {
      project,
      location: region,
      name: pipelineNames(prefix).handler,
      description: 'Acts on Customer.io events pushed by Pub/Sub, exactly once per event',
      buildConfig: buildConfig('handler'),
      serviceConfig: {
        serviceAccountEmail: this.handlerAccount.email,
        minInstanceCount: 0,
        // Push has no flow control: instances × concurrency bounds the Track API request rate.
        maxInstanceCount: props.handlerMaxInstances,
        maxInstanceRequestConcurrency: props.handlerConcurrency,
        timeoutSeconds: TIMING.handlerTimeoutSeconds,
        ...service,
        environmentVariables: {
          ...baseEnv,
          CIO_ACTIONS: policy.actions.length > 0 ? policy.actions.join(',') : 'none',
          CIO_SUPPRESS_ON: policy.suppressOn.join(','),
          CIO_REGION: props.cioRegion,
          CIO_TRACK_URL: TRACK_API_URLS[props.cioRegion],
          CIO_DRY_RUN: '0',
          CIO_DEADLINE_SECONDS: String(TIMING.cioDeadlineSeconds),
          DEDUPE_COLLECTION: props.dedupeCollection,
          DEDUPE_DEADLINE_SECONDS: String(TIMING.dedupeDeadlineSeconds),
          DEDUPE_LEASE_SECONDS: String(TIMING.dedupeLeaseSeconds),
          DEDUPE_TTL_DAYS: String(TIMING.dedupeTtlDays),
        },
        secretEnvironmentVariables: [secretEnv('CIO_SITE_ID', secrets.siteId), secretEnv('CIO_TRACK_API_KEY', secrets.trackApiKey)],
      },
      dependsOn: [...buildGrants, ...handlerGrants],
    });

    // Customer.io cannot present Google credentials: the receiver is public and the signature is the
    // authentication. The handler is private; only the push invoker may call it.
    new CloudRunV2ServiceIamMember(this, 'receiver-public', {
      project,
      location: region,
      name: this.receiver.serviceConfig.service,
      role: 'roles/run.invoker',
      member: 'allUsers',
    });
    new CloudRunV2ServiceIamMember(this, 'handler-invoker', {
      project,
      location: region,
      name: this.handler.serviceConfig.service,
      role: 'roles/run.invoker',
      member: this.pushInvoker.member,
    });
  }
}
