/**
 * What `npm start` writes about the running local stack (.local/stack.json), and how tools find it.
 * A module of its own so the ops CLI can read it without loading the local stack's machinery.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PipelineNames } from '../../infra/names.js';
import type { DeliverabilityConfig } from '../../shared/deliverability.js';

/** Where npm start keeps its warehouse, emulator logs and stack.json (CIO_LOCAL_STATE_DIR overrides). */
export const DEFAULT_STATE_DIR = process.env.CIO_LOCAL_STATE_DIR ?? join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), '.local');
export const STACK_FILE = 'stack.json';

export interface LocalStackInfo {
  project: string;
  prefix: string;
  pubsubHost: string;
  firestoreHost: string;
  receiverUrl: string;
  handlerUrl: string;
  signingKey: string;
  warehousePath: string;
  warehouseSubscription: string;
  names: PipelineNames;
  dryRun: boolean;
  /** Where the dedupe records are: the named database (as deployed) and the collection. */
  dedupeDatabase: string;
  dedupeCollection: string;
  /** Each function's log, and the guard's, one JSON entry per line (what Cloud Logging holds when deployed). */
  logFiles: { receiver: string; handler: string; guard: string };
  /** The settings the local deliverability guard judges with (ops deliverability --local uses them too). */
  deliverability: DeliverabilityConfig;
}

export function readLocalStack(stateDir = DEFAULT_STATE_DIR): LocalStackInfo | null {
  const file = join(stateDir, STACK_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalStackInfo) : null;
}
