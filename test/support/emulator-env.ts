import { inject } from 'vitest';

// The Google client libraries read these when a client is constructed.
process.env.PUBSUB_EMULATOR_HOST = inject('pubsubHost');
process.env.FIRESTORE_EMULATOR_HOST = inject('firestoreHost');
process.env.GOOGLE_CLOUD_PROJECT = inject('project');
// No metadata server on loopback: skip google-auth's GCE probe (and its warning) entirely.
process.env.METADATA_SERVER_DETECTION = 'none';
