import { ProjectService } from '@cdktf/provider-google/lib/project-service/index.js';
import { Construct } from 'constructs';

/** The APIs the pipeline uses. They stay enabled on destroy: other workloads may rely on them. */
export const REQUIRED_SERVICES = [
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
] as const;

export class ProjectServices extends Construct {
  readonly services: ProjectService[];
  constructor(scope: Construct, id: string, props: { project: string }) {
    super(scope, id);
    this.services = REQUIRED_SERVICES.map(
      (service) => new ProjectService(this, service.split('.')[0]!, { project: props.project, service, disableOnDestroy: false }),
    );
  }
}
