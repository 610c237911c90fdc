import { FirestoreDatabase } from '@cdktf/provider-google/lib/firestore-database/index.js';
import { FirestoreField } from '@cdktf/provider-google/lib/firestore-field/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';

export interface DedupeStoreProps {
  project: string;
  location: string;
  collection: string;
  dependsOn?: ITerraformDependable[];
}

/** The Firestore (native) database for the handler's dedupe records, with TTL on `expire_at`. */
export class DedupeStore extends Construct {
  readonly database: FirestoreDatabase;

  constructor(scope: Construct, id: string, props: DedupeStoreProps) {
    super(scope, id);
    this.database = new FirestoreDatabase(this, 'database', {
      project: props.project,
      name: '(default)',
      locationId: props.location,
      type: 'FIRESTORE_NATIVE',
      // Dedupe records outlive a mistaken destroy: the project keeps them.
      deletionPolicy: 'ABANDON',
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
}
