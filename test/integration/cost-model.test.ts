/**
 * `npm run cost`: every output block docs/cost.md shows is what the script prints today, run with the
 * variables the block's command names (a change to the row, the message, the handler's log line or a
 * priced line shows up here), and bad input gets a one-line error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local/function-process.js';
import { runScript } from '../support/run-script.js';

/** The variables `npm run cost` reads: a doc block's run sets the ones its command names and no other. */
const MODEL_VARIABLE = /^(COST_\w+|DELIVERABILITY_GUARD_INTERVAL_MINUTES|DELIVERABILITY_WINDOW_HOURS|CIO_WORKSPACES)$/;
const unsetModelVariables = () => Object.fromEntries(Object.keys(process.env).filter((name) => MODEL_VARIABLE.test(name)).map((name) => [name, undefined]));

/** A line of its own in an output block: lines of the output left out there. */
const ELIDED = '…';

interface OutputBlock {
  command: string;
  env: Record<string, string>;
  lines: string[];
}

/** Every fenced block of docs/cost.md that shows a run of `npm run cost`: its variables and the lines it shows. */
function costOutputBlocks(doc: string): OutputBlock[] {
  const blocks: OutputBlock[] = [];
  for (const [, body] of doc.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)) {
    const [first = '', ...lines] = body!.replace(/\n$/, '').split('\n');
    const command = /^\$ ((?:\w+=\S+ )*)npm run cost$/.exec(first);
    if (!command) continue;
    const env = Object.fromEntries(command[1]!.trim().split(' ').filter(Boolean).map((pair) => pair.split('=') as [string, string]));
    blocks.push({ command: first, env, lines });
  }
  return blocks;
}

/**
 * Where the block's lines differ from the output, or null: each run of lines between `…` markers is
 * a run of the output's lines, in order, and without a marker at its start (end) the block starts
 * (ends) where the output does.
 */
function blockMismatch(block: string[], output: string[]): string | null {
  const segments: string[][] = [[]];
  for (const line of block) {
    if (line === ELIDED) segments.push([]);
    else segments.at(-1)!.push(line);
  }
  let at = 0;
  for (const [i, segment] of segments.entries()) {
    if (segment.length === 0) continue;
    const anchored = i === 0;
    let found = -1;
    for (let start = at; start + segment.length <= output.length && found < 0; start++) {
      if (segment.every((line, k) => output[start + k] === line)) found = start;
      if (anchored) break;
    }
    if (found < 0) {
      // Report against the place in the output that matches the most of the run's first lines.
      const prefix = (start: number) => segment.findIndex((line, k) => output[start + k] !== line);
      let best = anchored ? 0 : at;
      for (let start = at; !anchored && start < output.length; start++) if (prefix(start) > prefix(best)) best = start;
      const k = prefix(best);
      return `shown ${JSON.stringify(segment[k])} where the output${anchored ? ', from its first line,' : ''} has ${JSON.stringify(output[best + k] ?? '(its end)')}`;
    }
    at = found + segment.length;
  }
  if (segments.at(-1)!.length > 0 && at !== output.length) return `the block ends before the output does (next line: ${JSON.stringify(output[at])}); mark what is left out with a line "${ELIDED}"`;
  return null;
}

describe('the cost model', () => {
  it('prints every output block docs/cost.md shows, line for line, run with the variables the block names', async () => {
    const doc = readFileSync(join(ROOT, 'docs/cost.md'), 'utf8');
    const blocks = costOutputBlocks(doc);
    // The default run and at least one other volume.
    expect(blocks.map((b) => b.command)).toContain('$ npm run cost');
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const block of blocks) {
      const { code, stdout, stderr } = await runScript('cost', [], { ...unsetModelVariables(), ...block.env });
      expect(stderr, block.command).toBe('');
      expect(code, block.command).toBe(0);
      const output = stdout.replace(/\n$/, '').split('\n');
      expect(blockMismatch(block.lines, output), block.command).toBeNull();
    }
  });

  it('compares blocks strictly: a changed line, a missing line or an unmarked cut fails', () => {
    const output = ['a', 'b', 'c', 'd'];
    expect(blockMismatch(['a', 'b', 'c', 'd'], output)).toBeNull();
    expect(blockMismatch(['a', ELIDED, 'c', 'd'], output)).toBeNull();
    expect(blockMismatch([ELIDED, 'b', 'c', ELIDED], output)).toBeNull();
    expect(blockMismatch(['a', 'b', 'x', 'd'], output)).toBe('shown "x" where the output, from its first line, has "c"');
    expect(blockMismatch([ELIDED, 'b', 'x', ELIDED], output)).toBe('shown "x" where the output has "c"');
    expect(blockMismatch(['a', 'c', 'd'], output)).not.toBeNull();
    expect(blockMismatch(['a', 'b'], output)).toMatch(/ends before the output does/);
    expect(blockMismatch(['b', 'c', 'd'], output)).toBe('shown "b" where the output, from its first line, has "a"');
    expect(blockMismatch([ELIDED, 'c', 'b'], output)).not.toBeNull();
  });

  it('names the components it prices', async () => {
    const { stdout } = await runScript('cost', [], { ...unsetModelVariables() });
    for (const component of ['Cloud Run receiver', 'Cloud Run handler', 'Pub/Sub: publish', 'BigQuery subscription', 'BigQuery: storage', 'Firestore', 'Cloud Logging', 'Secret Manager: versions and access operations', 'Deliverability guard: BigQuery queries', 'Deliverability guard: Cloud Scheduler job']) {
      expect(stdout).toContain(component);
    }
  });

  it('prices Secret Manager as the functions read it: every instance refreshes its secrets each interval while requests come, and reads them as it starts', async () => {
    const accessesOf = (stdout: string) => {
      const line = /Secret Manager: versions and access operations\s+(\d+) active versions, ([\d,]+) accesses\s+([\d.]+)$/m.exec(stdout);
      expect(line, stdout).not.toBeNull();
      return { versions: Number(line![1]), accesses: Number(line![2]!.replaceAll(',', '')), usd: Number(line![3]) };
    };
    const month = 30 * 86_400;
    const intervals = month / 60; // SECRET_REFRESH_SECONDS as the stack deploys it
    const starts = 720; // COST_INSTANCE_STARTS
    // A million events: one receiver instance (the warm one) and one handler instance take every
    // request, and requests come more often than once a minute to each, so each refreshes every
    // minute: the receiver its signing keys, the handler its site id and Track API key; every start
    // reads them again, and the handler's the pseudonym key too.
    const one = accessesOf((await runScript('cost', [], { ...unsetModelVariables() })).stdout);
    expect(one.versions).toBe(4);
    expect(one.accesses).toBe(intervals * 1 + intervals * 2 + starts * 1 + starts * 3);
    expect(one.usd).toBeCloseTo(4 * 0.06 + (one.accesses / 1e4) * 0.03, 2);
    // Two workspaces: each has its own three secrets, refreshed by its own requests.
    const two = accessesOf((await runScript('cost', [], { ...unsetModelVariables(), CIO_WORKSPACES: 'acme,beta:eu' })).stdout);
    expect(two.versions).toBe(7);
    expect(two.accesses).toBe(2 * (intervals * 1 + intervals * 2) + starts * 2 + starts * 5);
    // A thousand events: no more refreshes than requests (1,020 webhooks, 255 pushes), no more starts either.
    const few = accessesOf((await runScript('cost', [], { ...unsetModelVariables(), COST_EVENTS: '1000' })).stdout);
    expect(few.accesses).toBe(1020 * 1 + 255 * 2 + starts * 1 + 255 * 3);
    // Many: the billed instance-seconds come to more instances than one, each refreshing on its own.
    const many = accessesOf((await runScript('cost', [], { ...unsetModelVariables(), COST_EVENTS: '100000000' })).stdout);
    const receiverInstances = (100_000_000 * 1.02 * 0.1) / month;
    const handlerInstances = (100_000_000 * 1.02 * 0.25 * 0.3) / month;
    expect(many.accesses).toBe(Math.round(receiverInstances * intervals * 1 + handlerInstances * intervals * 2 + starts * 1 + starts * 3));
    const bad = await runScript('cost', [], { ...unsetModelVariables(), CIO_WORKSPACES: 'Acme' });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual(['cost: CIO_WORKSPACES: "Acme" is not a workspace name (2–20 lower-case letters, digits and hyphens, starting with a letter)']);
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
