import type { TestProject } from 'vitest/node';
import { startFirestoreEmulator, startPubSubEmulator } from '../../scripts/local/emulators.js';

export const TEST_PROJECT = 'cio-test-project';

declare module 'vitest' {
  export interface ProvidedContext {
    pubsubHost: string;
    firestoreHost: string;
    project: string;
  }
}

export default async function setup(project: TestProject) {
  const [pubsub, firestore] = await Promise.all([
    startPubSubEmulator({ project: TEST_PROJECT }),
    startFirestoreEmulator(),
  ]);
  project.provide('pubsubHost', pubsub.host);
  project.provide('firestoreHost', firestore.host);
  project.provide('project', TEST_PROJECT);
  return async () => {
    await Promise.all([pubsub.stop(), firestore.stop()]);
  };
}
