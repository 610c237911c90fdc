/**
 * Which subscription each local snapshot was made from. Deployed, the snapshot's label says so
 * (ops snapshot create sets it); the Pub/Sub emulator accepts labels and returns none, so the
 * local stack keeps them here, in its state directory, keyed by the snapshot's full name.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SNAPSHOT_ORIGINS_FILE = 'snapshot-origins.json';

export interface SnapshotOrigins {
  record(snapshot: string, subscription: string): void;
  /** The subscription, or null when this snapshot was not made through ops snapshot create. */
  read(snapshot: string): string | null;
  forget(snapshot: string): void;
}

export function localSnapshotOrigins(stateDir: string): SnapshotOrigins {
  const file = join(stateDir, SNAPSHOT_ORIGINS_FILE);
  const load = (): Record<string, string> => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  };
  const save = (origins: Record<string, string>) => {
    const temporary = `${file}.${process.pid}`;
    writeFileSync(temporary, `${JSON.stringify(origins, null, 2)}\n`);
    renameSync(temporary, file);
  };
  return {
    record(snapshot, subscription) {
      save({ ...load(), [snapshot]: subscription });
    },
    read: (snapshot) => load()[snapshot] ?? null,
    forget(snapshot) {
      const { [snapshot]: _, ...rest } = load();
      save(rest);
    },
  };
}
