/**
 * The erasure's order against a warehouse that bills: BigQuery's dry-run estimate first, and a
 * refusal before anything is read when it is over the cap (a DELETE over the cap would otherwise
 * fail after the operator confirmed). The warehouse here is a stand-in recording what was asked of
 * it (there is no BigQuery emulator); the queries themselves are checked in ops-queries.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CommandFailed } from '../../ops/cli.js';
import { ERASURE_LIMITS, eraseFrom } from '../../ops/commands/erase.js';
import type { ErasureEstimate, WarehouseReader } from '../../ops/warehouse/reader.js';

const GB = 1024 ** 3;

function warehouse(estimate: ErasureEstimate | null, rows: number) {
  const asked: string[] = [];
  const reader: WarehouseReader = {
    describe: 'BigQuery table p.d.events',
    counts: async () => ({ counts: [], undated: { rows: 0, events: 0 } }),
    findEvent: async () => [],
    findByTrace: async () => [],
    rowsPublishedSince: async () => 0,
    countForReplay: async () => 0,
    readForReplay: async () => 0,
    analystQuery: async () => [],
    deliverability: async () => [],
    estimateErasure: async () => (asked.push('estimate'), estimate),
    countPerson: async () => (asked.push('count'), rows === 0 ? [] : [{ workspace: null, rows }]),
    erasePerson: async () => (asked.push('delete'), rows),
    close: async () => undefined,
  };
  return { reader, asked };
}

describe('ops erase', () => {
  it('refuses before reading anything when the DELETE would bill more than --max-gb', async () => {
    const { reader, asked } = warehouse({ bytes: 37.2 * GB, maxBytes: 10 * GB }, 3);
    const out: string[] = [];
    const run = eraseFrom(reader, { email: 'a@example.com' }, { yes: true, write: (t) => out.push(t) });
    await expect(run).rejects.toThrow(CommandFailed);
    await expect(run).rejects.toThrow('the DELETE would bill about 37.2 GB (BigQuery dry run; the cap is 10.0 GB): nothing read, nothing deleted; rerun with --max-gb 38 or more to erase');
    expect(asked).toEqual(['estimate']);
    expect(out).toEqual([]);
  });

  it('shows the estimate, then counts, deletes and says what it cannot reach', async () => {
    const { reader, asked } = warehouse({ bytes: 0.25 * GB, maxBytes: 10 * GB }, 3);
    const out: string[] = [];
    expect(await eraseFrom(reader, { email: 'a@example.com' }, { yes: true, write: (t) => out.push(t) })).toBe(0);
    expect(asked).toEqual(['estimate', 'count', 'delete']);
    expect(out.join('')).toBe(`the DELETE would bill about 0.250 GB (BigQuery dry run; the cap is 10.0 GB)\ndeleted 3 row(s) holding email=a@example.com\n${ERASURE_LIMITS}\n`);
  });

  it('prints no estimate where nothing is billed, and deletes nothing when no row holds the person', async () => {
    const { reader, asked } = warehouse(null, 0);
    const out: string[] = [];
    expect(await eraseFrom(reader, { cioId: 'c1' }, { yes: true, write: (t) => out.push(t) })).toBe(0);
    expect(asked).toEqual(['estimate', 'count']);
    expect(out.join('')).toBe(`no row holds cioId=c1 in the BigQuery table p.d.events\n${ERASURE_LIMITS}\n`);
  });
});
