import { FirestoreDatabase } from '@cdktf/provider-google/lib/firestore-database/index.js';
import { FirestoreField } from '@cdktf/provider-google/lib/firestore-field/index.js';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';

export interface DedupeStoreProps {
  project: string;
  /** The named database (DEDUPE_DATABASE). */
  databaseId: string;
  location: string;
  collection: string;
  deletionProtection: boolean;
  dependsOn?: ITerraformDependable[];
}

/**
 * A Firestore (native) database of its own for the handler's dedupe records, with a TTL policy on
 * `expire_at`. Not "(default)": that one may already exist in the project (Firebase, App Engine, or
 * in Datastore mode), which makes a create fail with a conflict or points the handler at the wrong
 * kind of database. A named database also lets IAM scope the handler to exactly this data.
 */
export class DedupeStore extends Construct {
  readonly database: FirestoreDatabase;
  private readonly props: DedupeStoreProps;

  constructor(scope: Construct, id: string, props: DedupeStoreProps) {
    super(scope, id);
    this.props = props;
    this.database = new FirestoreDatabase(this, 'database', {
      project: props.project,
      name: props.databaseId,
      locationId: props.location,
      type: 'FIRESTORE_NATIVE',
      // Dedupe records outlive a mistaken destroy unless DELETION_PROTECTION=0 was deployed first.
      deletionPolicy: props.deletionProtection ? 'ABANDON' : 'DELETE',
      deleteProtectionState: props.deletionProtection ? 'DELETE_PROTECTION_ENABLED' : 'DELETE_PROTECTION_DISABLED',
      dependsOn: props.dependsOn,
    });
    new FirestoreField(this, 'expire-at-ttl', {
      project: props.project,
      database: this.database.name,
      collection: props.collection,
      field: 'expire_at',
      // TTL deletes terminal records (done, rejected) after DEDUPE_TTL_DAYS; no index needed on it.
      ttlConfig: {},
      indexConfig: {},
    });
  }

  /**
   * Read and write on this database only: Firestore has no per-collection IAM, but an IAM condition
   * on the database's resource name narrows the project-level role to it (Firestore's documented
   * per-database access).
   */
  grantReadWrite(key: string, member: string): ProjectIamMember {
    return new ProjectIamMember(this, key, {
      project: this.props.project,
      role: 'roles/datastore.user',
      member,
      condition: {
        title: `only ${this.props.databaseId}`,
        description: 'Firestore access limited to the dedupe database',
        expression: `resource.name == "projects/${this.props.project}/databases/${this.props.databaseId}"`,
      },
      dependsOn: [this.database],
    });
  }
}
