import { GoogleProjectServiceIdentity } from '@cdktf/provider-google-beta/lib/google-project-service-identity/index.js';
import type { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider/index.js';
import { ProjectService } from '@cdktf/provider-google/lib/project-service/index.js';
import { Construct } from 'constructs';

/** The APIs the pipeline uses. They stay enabled on destroy: other workloads may rely on them. */
export const REQUIRED_SERVICES = [
  'serviceusage.googleapis.com',
  'cloudresourcemanager.googleapis.com',
  'run.googleapis.com',
  'cloudfunctions.googleapis.com',
  'cloudbuild.googleapis.com',
  'artifactregistry.googleapis.com',
  'pubsub.googleapis.com',
  'bigquery.googleapis.com',
  'firestore.googleapis.com',
  'secretmanager.googleapis.com',
  'monitoring.googleapis.com',
  'logging.googleapis.com',
  'iam.googleapis.com',
  'storage.googleapis.com',
  // The deliverability guard's schedule.
  'cloudscheduler.googleapis.com',
] as const;

/** Needed only when EVENTS_RETENTION_DAYS is set: the scheduled query that expires undated rows. */
export const RETENTION_SERVICES = ['bigquerydatatransfer.googleapis.com'] as const;

export interface ProjectServicesProps {
  project: string;
  betaProvider: GoogleBetaProvider;
  retention: boolean;
}

/**
 * Enables the APIs and makes sure the service agents that receive grants exist. A service agent is
 * created lazily by Google, sometimes only at first use; IAM refuses a grant to one that does not
 * exist yet ("you can't grant roles to a service agent that hasn't been created"), so the stack
 * asks Service Usage to create it (google-beta's google_project_service_identity, the documented
 * way) and every grant takes the agent's member from that resource, which orders them after it.
 */
export class ProjectServices extends Construct {
  readonly services: ProjectService[];
  /** serviceAccount:service-NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com, once it exists. */
  readonly pubsubAgent: string;
  /** The BigQuery Data Transfer service agent (only with retention), once it exists. */
  readonly transferAgent: string | null;

  constructor(scope: Construct, id: string, props: ProjectServicesProps) {
    super(scope, id);
    const names = [...REQUIRED_SERVICES, ...(props.retention ? RETENTION_SERVICES : [])];
    this.services = names.map(
      (service) => new ProjectService(this, service.split('.')[0]!, { project: props.project, service, disableOnDestroy: false }),
    );
    const byName = (service: string) => this.services[names.indexOf(service as (typeof names)[number])]!;
    const agent = (key: string, service: string) =>
      new GoogleProjectServiceIdentity(this, key, { provider: props.betaProvider, project: props.project, service, dependsOn: [byName(service)] }).member;
    this.pubsubAgent = agent('pubsub-agent', 'pubsub.googleapis.com');
    this.transferAgent = props.retention ? agent('transfer-agent', 'bigquerydatatransfer.googleapis.com') : null;
  }
}
