/**
 * `npm run cost`: the figures docs/cost.md shows are the ones the script measures from the code
 * today (a change to the row, the message or the handler's log line shows up here), and bad input
 * gets a one-line error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local/function-process.js';
import { runScript } from '../support/run-script.js';

describe('the cost model', () => {
  it('prints what docs/cost.md shows, measured from the code as it is', async () => {
    const { code, stdout, stderr } = await runScript('cost', [], { COST_EVENTS: '1000000' });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const doc = readFileSync(join(ROOT, 'docs/cost.md'), 'utf8');
    // The measured figures and every priced line, exactly as the page shows them.
    const shown = stdout.split('\n').filter((line) => line.trim() && !line.startsWith('  - ') && !line.startsWith('free allowances'));
    for (const line of shown) expect(doc, line).toContain(line);
    for (const component of ['Cloud Run receiver', 'Cloud Run handler', 'Pub/Sub: publish', 'BigQuery subscription', 'BigQuery: storage', 'Firestore', 'Cloud Logging', 'Secret Manager', 'Deliverability guard: BigQuery queries', 'Deliverability guard: Cloud Scheduler job']) {
      expect(stdout).toContain(component);
    }
  });

  it('prices the deliverability guard as deployed: its schedule, the columns and tables its query reads, BigQuery\'s 10 MB minimum', async () => {
    const { stdout } = await runScript('cost', [], { COST_EVENTS: '1000000', DELIVERABILITY_GUARD_INTERVAL_MINUTES: '5' });
    // 30 days of runs every 5 minutes; a million events a month read less than the minimum, which is
    // billed for the events table and again for the pseudonym key's table the analysts' view joins.
    expect(stdout).toMatch(/Deliverability guard: BigQuery queries\s+8,640 runs × 20\.0 MiB billed \(reads \d+\.\d MiB\)/);
    expect(stdout).toContain('tables it references: events, pseudonym_hmac_key (BigQuery bills at least 10 MB for each)');
    // Identifiers, metrics and the dedupe window's columns only: never an address or the payload.
    const columns = /\d+ columns: ([a-z_, ]+)\)/.exec(stdout)![1]!.split(', ');
    expect(columns).toContain('campaign_id');
    for (const personal of ['email', 'recipient', 'payload', 'subject', 'customer_id']) expect(columns).not.toContain(personal);
    const bad = await runScript('cost', [], { DELIVERABILITY_GUARD_INTERVAL_MINUTES: '7' });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('cost: DELIVERABILITY_GUARD_INTERVAL_MINUTES: must divide an hour evenly: one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60 (got "7")');
  });

  it('scales with COST_EVENTS and refuses a negative volume in one line', async () => {
    const ten = await runScript('cost', [], { COST_EVENTS: '10000000' });
    expect(ten.stdout).toMatch(/10,000,000 events a month/);
    const bad = await runScript('cost', [], { COST_EVENTS: '-1' });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual(['cost: COST_EVENTS must be a non-negative number']);
  });
});
