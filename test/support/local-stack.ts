/** The local stack on the test run's emulators, isolated by a unique prefix, collection and state dir. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../scripts/local/local-stack.js';
import { uniqueName } from './pubsub.js';

export interface TestStack extends LocalStack {
  stateDir: string;
  /** Environment for the ops CLI to find this stack with --local. */
  cliEnv: Record<string, string>;
}

export async function startTestStack(name: string, options: Omit<LocalStackOptions, 'project' | 'prefix' | 'stateDir'> = {}): Promise<TestStack> {
  const stateDir = mkdtempSync(join(tmpdir(), `${name}-`));
  const stack = await startLocalStack({
    project: process.env.GOOGLE_CLOUD_PROJECT,
    prefix: uniqueName(name.slice(0, 2)).replace('-', ''),
    stateDir,
    pubsubHost: process.env.PUBSUB_EMULATOR_HOST,
    firestoreHost: process.env.FIRESTORE_EMULATOR_HOST,
    ...options,
    handlerEnv: { DEDUPE_COLLECTION: uniqueName('dedupe'), ...options.handlerEnv },
  });
  return Object.assign(stack, { stateDir, cliEnv: { CIO_LOCAL_STATE_DIR: stateDir } });
}
