import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository/index.js';
import { ArtifactRegistryRepositoryIamMember } from '@cdktf/provider-google/lib/artifact-registry-repository-iam-member/index.js';
import { Cloudfunctions2Function, type Cloudfunctions2FunctionBuildConfig } from '@cdktf/provider-google/lib/cloudfunctions2-function/index.js';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member/index.js';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member/index.js';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member/index.js';
import type { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic/index.js';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member/index.js';
import type { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret/index.js';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account/index.js';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket/index.js';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object/index.js';
import type { TimeProvider } from '@cdktf/provider-time/lib/provider/index.js';
import { Sleep } from '@cdktf/provider-time/lib/sleep/index.js';
import { App, AssetType, DataResource, TerraformAsset, TerraformStack, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { SETTINGS, type PolicyConfig } from '../../shared/config.js';
import { TRACK_API_URLS, WORKSPACES_VARIABLE, formatWorkspaces, workspaceVariable, type Workspace } from '../../shared/workspaces.js';
import type { ReceiverAccess } from '../config.js';
import { writeDeterministicZip } from '../archive.js';
import { pipelineNames } from '../names.js';
import { IAM_PROPAGATION_WAIT, TIMING } from '../timing.js';
import type { DedupeStore } from './dedupe-store.js';
import { workspaceScope, type Secrets } from './secrets.js';

/** Where package.json is: the invoker step runs `npm run ops` there. */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface PipelineFunctionsProps {
  project: string;
  region: string;
  prefix: string;
  bundleDir: string;
  topic: PubsubTopic;
  secrets: Secrets;
  dedupe: DedupeStore;
  cioRegion: 'us' | 'eu';
  /** CIO_WORKSPACES (regions explicit); null: one workspace, CIO_REGION's. */
  workspaces: Workspace[] | null;
  policy: PolicyConfig;
  dedupeCollection: string;
  receiverMinInstances: number;
  receiverMaxInstances: number;
  handlerMaxInstances: number;
  handlerConcurrency: number;
  /** Each instance's Track API rate: for each workspace, with several (the handler keeps one gate per workspace). */
  cioRequestsPerInstance: number;
  signatureMaxAgeSeconds: number | 'off';
  dedupeTtlDays: number;
  receiverAccess: ReceiverAccess;
  timeProvider: TimeProvider;
  /** Everything the functions need in place first: the APIs, and the table their rows land in. */
  dependsOn?: ITerraformDependable[];
}

/**
 * The step that turns Cloud Run's invoker IAM check off on the receiver's service, for
 * organizations whose Domain Restricted Sharing policy refuses an allUsers binding (Cloud Run's
 * documented answer: "Disable the Cloud Run Invoker IAM check"): the project's own ops command
 * (ops/commands/invoker-check.ts), run with the project's Node by npm from the project root, which
 * PATCHes the service's invokerIamDisabled through google-auth-library with the credentials
 * Terraform itself uses — no gcloud CLI, no gcloud login. Idempotent.
 */
export function invokerCheckOffCommand(service: string): string {
  return `npm run --silent ops -- invoker-check off --service ${service}`;
}

/**
 * Both functions from one bundle, each with its own least-privilege service account: the receiver
 * may publish to the topic and read the signing keys; the handler may use its Firestore database
 * and read the Track API credentials and the pseudonym key; the push invoker may only invoke the
 * handler; the build account may read the function sources, write build logs, and push images to
 * this stack's own Artifact Registry repository and no other.
 */
export class PipelineFunctions extends Construct {
  readonly receiver: Cloudfunctions2Function;
  readonly handler: Cloudfunctions2Function;
  readonly receiverAccount: ServiceAccount;
  readonly handlerAccount: ServiceAccount;
  readonly pushInvoker: ServiceAccount;
  readonly buildAccount: ServiceAccount;
  readonly repository: ArtifactRegistryRepository;
  /** The build of another target of the same bundle (the deliverability guard deploys from it too). */
  readonly buildConfigFor: (entryPoint: string) => Cloudfunctions2FunctionBuildConfig;
  /** What every function of the bundle waits for: the APIs, the table, the build account's grants. */
  readonly deployDependencies: ITerraformDependable[];
  /** `CIO_WORKSPACES` as every function of the bundle gets it: empty with one workspace. */
  readonly workspacesEnv: Record<string, string>;

  constructor(scope: Construct, id: string, props: PipelineFunctionsProps) {
    super(scope, id);
    const { project, region, prefix, secrets, policy } = props;
    const names = pipelineNames(prefix);
    const account = (key: string, displayName: string) =>
      new ServiceAccount(this, key, { project, accountId: `${prefix}-${key}`, displayName, dependsOn: props.dependsOn });
    this.receiverAccount = account('receiver', 'Customer.io webhook receiver');
    this.handlerAccount = account('handler', 'Customer.io webhook handler');
    this.pushInvoker = account('push-invoker', 'Pub/Sub push to the handler');
    this.buildAccount = account('build', 'Builds the webhook functions');

    // The bundle (npm run build) is zipped at synth, the same bytes on every machine and every run
    // (infra/archive.ts); its content hash names the object, so every code change is a new object
    // and a new function revision, and nothing else is.
    const archive = writeDeterministicZip(resolve(props.bundleDir));
    const bundle = new TerraformAsset(this, 'bundle', { path: archive.path, type: AssetType.FILE, assetHash: archive.hash });
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

    // The functions' images go to this repository (build_config.docker_repository), so the build
    // account's Artifact Registry write is scoped to it instead of every repository in the project.
    this.repository = new ArtifactRegistryRepository(this, 'repository', {
      project,
      location: region,
      repositoryId: names.functionsRepository,
      format: 'DOCKER',
      description: 'Images of the Customer.io webhook functions',
      cleanupPolicyDryRun: false,
      cleanupPolicies: [
        { id: 'delete-older-than-30-days', action: 'DELETE', condition: { olderThan: '2592000s' } },
        // A KEEP policy wins over DELETE: the last five builds of each function stay for rollbacks.
        { id: 'keep-last-5', action: 'KEEP', mostRecentVersions: { keepCount: 5 } },
      ],
      dependsOn: props.dependsOn,
    });

    // What Google documents for a user-specified build account (Cloud Run functions, "Custom
    // service account for Cloud Build", cloud.google.com/functions/docs/securing/build-custom-sa,
    // and Cloud Run's "Set build service account": Storage Object Admin "for retrieving the function
    // source from the Cloud Storage bucket"; the provider's cloudfunctions2_basic_builder example at
    // v6.50.0 grants the same): write build logs, read the source — Cloud Functions copies the
    // uploaded zip into its own gcf-v2-sources-<number>-<region> bucket and the build reads it from
    // there, so a grant on this stack's bucket alone is not enough — and push images.
    //
    // Storage Object Admin granted project-wide would reach every object in the project, the
    // pseudonym key's too (a bucket's own policy cannot take away a project-level grant). An IAM
    // condition on the resource name (IAM Conditions: storage.googleapis.com supports resource.name,
    // "projects/_/buckets/BUCKET[/objects/OBJECT]") keeps its Cloud Storage permissions to the bucket
    // a build reads its source from, Cloud Functions' gcf-v2-sources-<number>-<region> (provider issue
    // #20571 shows a build reading it there, not the bucket the stack uploads to); the role's few
    // other permissions (resourcemanager.projects.get) stay as they are.
    const buildRoles = ['roles/logging.logWriter', 'roles/storage.objectAdmin'] as const;
    const buildCondition = `resource.service != "storage.googleapis.com" || resource.name.startsWith("projects/_/buckets/gcf-v2-sources-")`;
    const buildGrants: ITerraformDependable[] = [
      ...buildRoles.map((role) => new ProjectIamMember(this, `build-${role.split('.').pop()}`, {
        project,
        role,
        member: this.buildAccount.member,
        ...(role === 'roles/storage.objectAdmin'
          ? { condition: { title: 'function sources only', description: 'Cloud Storage access limited to the buckets function builds read their source from', expression: buildCondition } }
          : {}),
      })),
      new ArtifactRegistryRepositoryIamMember(this, 'build-repository-writer', {
        project,
        location: region,
        repository: this.repository.name,
        role: 'roles/artifactregistry.writer',
        member: this.buildAccount.member,
      }),
    ];
    // A build started before these grants propagate fails ("Access to bucket gcf-v2-sources-… denied").
    // The roles are the sleep's triggers: a change of them waits again before the next build.
    const buildGrantsSettled = new Sleep(this, 'build-grants-propagated', {
      provider: props.timeProvider,
      createDuration: IAM_PROPAGATION_WAIT,
      // What makes the grants new, each a reason to wait again: their roles, the build account (a
      // new account is granted anew), and the storage condition (a change of it replaces the grant).
      triggers: { roles: [...buildRoles, 'roles/artifactregistry.writer'].join(','), member: this.buildAccount.member, condition: buildCondition },
      dependsOn: buildGrants,
    });

    const secretReader = (key: string, secret: SecretManagerSecret, sa: ServiceAccount, scope: Construct = this) =>
      new SecretManagerSecretIamMember(scope, key, { project, secretId: secret.secretId, role: 'roles/secretmanager.secretAccessor', member: sa.member });
    const secretEnv = (key: string, secret: SecretManagerSecret) => ({ key, projectId: project, secret: secret.secretId, version: 'latest' });
    // The operator-filled secrets are read at run time by name (projects/P/secrets/S, the secret's
    // id): the deploy needs no version of them, and a new version is in use within the refresh.
    const runtimeSecrets = { [SETTINGS.secretRefreshSeconds.name]: SETTINGS.secretRefreshSeconds.default };

    // Each workspace's secrets, read by the function that needs them and by no other: the receiver
    // its signing keys, the handler its Track API credentials. With several workspaces the grants sit
    // in the workspace's own scope (workspaceScope), so adding one adds grants and changes none.
    const receiverGrants = [
      new PubsubTopicIamMember(this, 'receiver-publisher', { project, topic: props.topic.name, role: 'roles/pubsub.publisher', member: this.receiverAccount.member }),
      ...secrets.workspaces.map((ws) => secretReader('receiver-signing-keys', ws.signingKeys, this.receiverAccount, workspaceScope(this, ws.workspace))),
    ];
    const handlerGrants = [
      props.dedupe.grantReadWrite('handler-firestore', this.handlerAccount.member),
      ...secrets.workspaces.flatMap((ws) => [
        secretReader('handler-site-id', ws.siteId, this.handlerAccount, workspaceScope(this, ws.workspace)),
        secretReader('handler-track-api-key', ws.trackApiKey, this.handlerAccount, workspaceScope(this, ws.workspace)),
      ]),
      secretReader('handler-pseudonym-key', secrets.pseudonymKey, this.handlerAccount),
    ];

    // Which secret holds what, as the functions are told (the contract with shared/config.ts): with
    // one workspace today's variables; with several CIO_WORKSPACES and each workspace's own variable,
    // the base name + __ + the workspace (workspaceVariable), and none of the unsuffixed ones — the
    // functions refuse those as ambiguous. The handler takes each workspace's Track API URL from its
    // region in CIO_WORKSPACES, so CIO_REGION and CIO_TRACK_URL are set with one workspace only.
    const perWorkspace = (base: string, secret: (ws: (typeof secrets.workspaces)[number]) => SecretManagerSecret) =>
      Object.fromEntries(secrets.workspaces.map((ws) => [ws.workspace === null ? base : workspaceVariable(base, ws.workspace.name), secret(ws).id]));
    const workspacesEnv: Record<string, string> = props.workspaces === null ? {} : { [WORKSPACES_VARIABLE]: formatWorkspaces(props.workspaces) };
    const trackEnv: Record<string, string> = props.workspaces === null ? { CIO_REGION: props.cioRegion, CIO_TRACK_URL: TRACK_API_URLS[props.cioRegion] } : {};
    /** What the deliverability guard's environment adds to its own: the workspaces, with several. */
    this.workspacesEnv = workspacesEnv;

    const buildConfig = (entryPoint: string) => ({
      runtime: 'nodejs22',
      entryPoint,
      serviceAccount: this.buildAccount.id,
      dockerRepository: this.repository.id,
      source: { storageSource: { bucket: bucket.name, object: source.name } },
    });

    // What both services share: one CPU (needed for request concurrency), every request on the
    // newest revision, and the base environment.
    const service = { availableCpu: '1', availableMemory: '512Mi', allTrafficOnLatestRevision: true };
    const baseEnv = { NODE_ENV: 'production', GOOGLE_CLOUD_PROJECT: project, LOG_LEVEL: SETTINGS.logLevel.default };
    const maxAge = String(props.signatureMaxAgeSeconds === 'off' ? 0 : props.signatureMaxAgeSeconds);
    const settled = [...(props.dependsOn ?? []), buildGrantsSettled];
    this.buildConfigFor = buildConfig;
    this.deployDependencies = settled;

    const receiverService = {
      serviceAccountEmail: this.receiverAccount.email,
      // Warm instances keep cold starts off Customer.io's 4-second clock.
      minInstanceCount: props.receiverMinInstances,
      maxInstanceCount: props.receiverMaxInstances,
      maxInstanceRequestConcurrency: 80,
      timeoutSeconds: TIMING.receiverTimeoutSeconds,
      // Customer.io posts from the internet; the signature is the authentication.
      ingressSettings: 'ALLOW_ALL',
      ...service,
      environmentVariables: {
        ...baseEnv,
        PUBSUB_TOPIC: props.topic.name,
        CIO_SIGNATURE_MAX_AGE_SECONDS: maxAge,
        RECEIVER_MAX_BODY_BYTES: SETTINGS.maxBodyBytes.default,
        RECEIVER_MAX_BUFFERED_BYTES: SETTINGS.maxBufferedBytes.default,
        RECEIVER_BODY_TIMEOUT_MS: SETTINGS.bodyTimeoutMs.default,
        RECEIVER_PUBLISH_TIMEOUT_MS: String(TIMING.receiverPublishTimeoutMs),
        ...workspacesEnv,
        ...perWorkspace(SETTINGS.signingKeysSecret.name, (ws) => ws.signingKeys),
        ...runtimeSecrets,
      },
    };
    this.receiver = new Cloudfunctions2Function(this, 'receiver-function', {
      project,
      location: region,
      name: names.receiver,
      description: 'Verifies Customer.io reporting webhooks and publishes them to Pub/Sub',
      buildConfig: buildConfig('receiver'),
      serviceConfig: receiverService,
      dependsOn: [...settled, ...receiverGrants],
    });

    this.handler = new Cloudfunctions2Function(this, 'handler-function', {
      project,
      location: region,
      name: names.handler,
      description: 'Acts on Customer.io events pushed by Pub/Sub, exactly once per event',
      buildConfig: buildConfig('handler'),
      serviceConfig: {
        serviceAccountEmail: this.handlerAccount.email,
        minInstanceCount: 0,
        maxInstanceCount: props.handlerMaxInstances,
        maxInstanceRequestConcurrency: props.handlerConcurrency,
        timeoutSeconds: TIMING.handlerTimeoutSeconds,
        // Cloud Run counts Pub/Sub push from the same project as internal traffic ("Restricting
        // ingress for Cloud Run": Internal allows Pub/Sub in the same project on the run.app URL),
        // so the handler takes no request from the internet at all; IAM still checks the token.
        ingressSettings: 'ALLOW_INTERNAL_ONLY',
        ...service,
        environmentVariables: {
          ...baseEnv,
          CIO_ACTIONS: policy.actions.length > 0 ? policy.actions.join(',') : 'none',
          CIO_SUPPRESS_ON: policy.suppressOn.join(','),
          ...trackEnv,
          CIO_DRY_RUN: '0',
          CIO_DEADLINE_SECONDS: String(TIMING.cioDeadlineSeconds),
          CIO_REQUESTS_PER_SECOND: String(props.cioRequestsPerInstance),
          CIO_SIGNATURE_MAX_AGE_SECONDS: maxAge,
          DEDUPE_COLLECTION: props.dedupeCollection,
          DEDUPE_DATABASE: props.dedupe.database.name,
          DEDUPE_DEADLINE_SECONDS: String(TIMING.dedupeDeadlineSeconds),
          DEDUPE_LEASE_SECONDS: String(TIMING.dedupeLeaseSeconds),
          DEDUPE_TTL_DAYS: String(props.dedupeTtlDays),
          ...workspacesEnv,
          ...perWorkspace(SETTINGS.siteIdSecret.name, (ws) => ws.siteId),
          ...perWorkspace(SETTINGS.trackApiKeySecret.name, (ws) => ws.trackApiKey),
          ...runtimeSecrets,
        },
        secretEnvironmentVariables: [
          // Pinned to Terraform's version, never `latest`: a version added outside Terraform cannot
          // split the handler's hashes from the warehouse's, which load the same version's bytes.
          { key: 'PSEUDONYM_KEY', projectId: project, secret: secrets.pseudonymKey.secretId, version: secrets.pseudonymKeyVersion.version },
        ],
      },
      dependsOn: [...settled, ...handlerGrants],
    });

    // Customer.io cannot present Google credentials: the receiver is public and the signature is the
    // authentication. The handler is private; only the push invoker may call it.
    if (props.receiverAccess === 'all-users') {
      new CloudRunV2ServiceIamMember(this, 'receiver-public', {
        project,
        location: region,
        name: this.receiver.serviceConfig.service,
        role: 'roles/run.invoker',
        member: 'allUsers',
      });
    } else {
      // No allUsers binding for Domain Restricted Sharing to refuse: the invoker check is turned
      // off on the service instead. Cloud Functions owns that service and deploys it again on every
      // update of the function (provider issue #23360), so the step runs again after every update,
      // whatever changed — code, settings, or an update Google made on its own.
      //
      // The provider plans an updated function's update_time as its old value (computed, never marked
      // unknown: resource_cloudfunctions2_function.go at v6.50.0). A step triggered by it alone would
      // run one apply late; one also replaced in the same plan (replace_triggered_by) would be planned
      // with the old value and see the new one at apply: Terraform stops with "Provider produced
      // inconsistent final plan". So the trigger joins update_time with the id of
      // a marker that any planned change of the function replaces: the id is unknown in such a plan,
      // the step is replaced in the same apply, and the value it stores is the one read after the
      // update, so the next plan is empty. An update Google made shows only in update_time, and
      // replaces the step on the next apply.
      const receiverAddress = `${this.receiver.terraformResourceType}.${this.receiver.friendlyUniqueId}`;
      const receiverChanged = new DataResource(this, 'receiver-changed', {
        // As a plain address: cdktf 0.21 writes a resource given here as "${type.name}", which
        // Terraform refuses in replace_triggered_by (terraform-cdk issues #3196, #3532; never fixed).
        lifecycle: { replaceTriggeredBy: [receiverAddress] },
      });
      const stackDir = resolve(App.of(this).outdir, 'stacks', TerraformStack.of(this).node.id);
      new DataResource(this, 'receiver-invoker-check-off', {
        triggersReplace: { function_updated: `${receiverChanged.id}/${this.receiver.updateTime}` },
        provisioners: [{ type: 'local-exec', command: invokerCheckOffCommand(this.receiver.serviceConfig.service), workingDir: relative(stackDir, PROJECT_ROOT) || '.' }],
        dependsOn: [this.receiver],
      });
    }
    new CloudRunV2ServiceIamMember(this, 'handler-invoker', {
      project,
      location: region,
      name: this.handler.serviceConfig.service,
      role: 'roles/run.invoker',
      member: this.pushInvoker.member,
    });
  }
}
