/**
 * The IAM permissions the first apply needs, derived from the resources the stack synthesizes:
 * each resource type maps to what Terraform's create (and, for IAM members, the policy update)
 * calls, so the list follows the stack rather than being kept by hand beside it. A new resource
 * type without an entry, or an entry for a type the stack no longer makes, fails the test that walks
 * the stack.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PERMISSIONS_BY_RESOURCE_TYPE: Record<string, readonly string[]> = {
  google_project_service: ['serviceusage.services.enable', 'serviceusage.services.get'],
  google_project_service_identity: ['serviceusage.services.enable'],
  google_service_account: ['iam.serviceAccounts.create', 'iam.serviceAccounts.get'],
  google_service_account_iam_member: ['iam.serviceAccounts.getIamPolicy', 'iam.serviceAccounts.setIamPolicy'],
  google_project_iam_member: ['resourcemanager.projects.getIamPolicy', 'resourcemanager.projects.setIamPolicy'],
  google_pubsub_topic: ['pubsub.topics.create', 'pubsub.topics.get'],
  google_pubsub_topic_iam_member: ['pubsub.topics.getIamPolicy', 'pubsub.topics.setIamPolicy'],
  google_pubsub_subscription: ['pubsub.subscriptions.create', 'pubsub.subscriptions.get', 'pubsub.topics.attachSubscription'],
  google_pubsub_subscription_iam_member: ['pubsub.subscriptions.getIamPolicy', 'pubsub.subscriptions.setIamPolicy'],
  google_bigquery_dataset: ['bigquery.datasets.create', 'bigquery.datasets.get', 'bigquery.datasets.update'],
  google_bigquery_table: ['bigquery.tables.create', 'bigquery.tables.get', 'bigquery.tables.update'],
  google_bigquery_table_iam_member: ['bigquery.tables.getIamPolicy', 'bigquery.tables.setIamPolicy'],
  google_bigquery_routine: ['bigquery.routines.create', 'bigquery.routines.get'],
  google_bigquery_data_transfer_config: ['bigquery.transfers.update', 'bigquery.transfers.get'],
  // The load job that fills the pseudonym key's table: it runs as Terraform's identity, which reads
  // the private object and writes the table.
  google_bigquery_job: ['bigquery.jobs.create', 'bigquery.jobs.get', 'bigquery.tables.updateData', 'storage.objects.get'],
  google_firestore_database: ['datastore.databases.create', 'datastore.databases.getMetadata'],
  google_firestore_field: ['datastore.indexes.update', 'datastore.indexes.list'],
  google_secret_manager_secret: ['secretmanager.secrets.create', 'secretmanager.secrets.get'],
  google_secret_manager_secret_version: ['secretmanager.versions.add', 'secretmanager.versions.get'],
  google_secret_manager_secret_iam_member: ['secretmanager.secrets.getIamPolicy', 'secretmanager.secrets.setIamPolicy'],
  google_storage_bucket: ['storage.buckets.create', 'storage.buckets.get'],
  google_storage_bucket_object: ['storage.objects.create', 'storage.objects.get'],
  google_storage_bucket_iam_policy: ['storage.buckets.getIamPolicy', 'storage.buckets.setIamPolicy'],
  google_artifact_registry_repository: ['artifactregistry.repositories.create', 'artifactregistry.repositories.get'],
  google_artifact_registry_repository_iam_member: ['artifactregistry.repositories.getIamPolicy', 'artifactregistry.repositories.setIamPolicy'],
  // Deploying a function runs its build and its service as other accounts: actAs on them.
  google_cloudfunctions2_function: ['cloudfunctions.functions.create', 'cloudfunctions.functions.get', 'iam.serviceAccounts.actAs'],
  google_cloud_run_v2_service_iam_member: ['run.services.getIamPolicy', 'run.services.setIamPolicy'],
  // RECEIVER_ACCESS=no-invoker-check: `ops invoker-check off` reads the service, patches
  // invokerIamDisabled and follows the operation. Cloud Run's "Allowing public access" page lists
  // create, update and setIamPolicy for turning the check off or on.
  terraform_data: ['run.services.get', 'run.services.create', 'run.services.update', 'run.services.setIamPolicy', 'run.operations.get'],
  google_logging_metric: ['logging.logMetrics.create', 'logging.logMetrics.get'],
  google_monitoring_alert_policy: ['monitoring.alertPolicies.create', 'monitoring.alertPolicies.get'],
  google_monitoring_dashboard: ['monitoring.dashboards.create', 'monitoring.dashboards.get'],
  google_monitoring_notification_channel: ['monitoring.notificationChannels.create', 'monitoring.notificationChannels.get'],
  // The deliverability guard's schedule runs as its invoker account (OIDC token): actAs on it.
  google_cloud_scheduler_job: ['cloudscheduler.jobs.create', 'cloudscheduler.jobs.get', 'iam.serviceAccounts.actAs'],
  // Created and destroyed locally by Terraform: no Google permission.
  random_bytes: [],
  time_sleep: [],
};

/** The permissions for a set of resource types; throws for a type nobody has mapped yet. */
export function permissionsFor(resourceTypes: Iterable<string>): string[] {
  const needed = new Set<string>();
  const unmapped: string[] = [];
  for (const type of resourceTypes) {
    const permissions = PERMISSIONS_BY_RESOURCE_TYPE[type];
    if (!permissions) unmapped.push(type);
    else for (const p of permissions) needed.add(p);
  }
  if (unmapped.length > 0) throw new Error(`no permissions are mapped for ${unmapped.join(', ')} (ops/doctor/permissions.ts)`);
  return [...needed].sort();
}

/** The resource types the stack synthesizes for this configuration, from the constructs themselves. */
export async function stackResourceTypes(env: Record<string, string | undefined>): Promise<string[]> {
  const [{ App, TerraformResource }, { loadStackConfig }, { PipelineStack }] = await Promise.all([import('cdktf'), import('../../infra/config.js'), import('../../infra/stack.js')]);
  // The asset is only zipped when written out; any directory will do to build the tree.
  const bundleDir = mkdtempSync(join(tmpdir(), 'doctor-bundle-'));
  writeFileSync(join(bundleDir, 'package.json'), '{}');
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'doctor-out-')) });
  const stack = new PipelineStack(app, 'doctor', loadStackConfig(env, () => undefined, bundleDir));
  const types = new Set<string>();
  for (const node of stack.node.findAll()) if (node instanceof TerraformResource) types.add(node.terraformResourceType);
  return [...types].sort();
}
