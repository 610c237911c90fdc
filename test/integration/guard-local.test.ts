/**
 * The deliverability guard end to end on the local stack: signed webhooks through the real receiver
 * into the DuckDB warehouse, the running guard raising a complaint spike on one campaign and a bounce
 * spike on another in its log, `ops deliverability --local` showing them worst first, and a small
 * campaign with a high rate but under the minimum volume raising nothing. The minimum volume is
 * lowered (DELIVERABILITY_MIN_*) so the test sends hundreds of events, not thousands.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_EVENTS } from '../../shared/log-events.js';
import { queryWarehouse } from '../../scripts/local/local-warehouse.js';
import { samplePayload } from '../../scripts/local/samples.js';
import { sendBodies } from '../../scripts/local/sender.js';
import { runScript } from '../support/run-script.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { logEntries, waitFor } from '../support/waiting.js';

let stack: TestStack;
let seq = 5000;

/** n email events of one metric from a campaign's action, as Customer.io sends them. */
function campaignEvents(campaignId: number, metric: string, n: number): string[] {
  return Array.from({ length: n }, () => {
    const payload = samplePayload('email', metric, { seq: seq++, source: 'campaign' });
    Object.assign(payload.data, { campaign_id: campaignId, action_id: 1 });
    return JSON.stringify(payload);
  });
}

function send(campaignId: number, c: { sent: number; delivered: number; bounced?: number; spammed?: number }): string[] {
  return [
    ...campaignEvents(campaignId, 'sent', c.sent),
    ...campaignEvents(campaignId, 'delivered', c.delivered),
    ...campaignEvents(campaignId, 'bounced', c.bounced ?? 0),
    ...campaignEvents(campaignId, 'spammed', c.spammed ?? 0),
  ];
}

/** Breach entries the guard logged after line `from`. */
const breaches = (from = 0) => logEntries(stack.guard.lines.slice(from), LOG_EVENTS.deliverabilityBreach);

beforeAll(async () => {
  stack = await startTestStack('guard-local', {
    deliverability: { env: { DELIVERABILITY_MIN_DELIVERED: '40', DELIVERABILITY_MIN_SENT: '40' }, intervalMs: 1000 },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('the local deliverability guard', () => {
  // The time bounds here bound waiting, not speed: on a busy machine the stack takes longer to land ~300 events.
  it('raises a complaint spike and a bounce spike from the running stack, and nothing for a small campaign', async () => {
    const complaints = send(901, { sent: 50, delivered: 50, spammed: 2 }); // 4%: critical
    const bounces = send(902, { sent: 50, delivered: 46, bounced: 4 }); // 8%: critical
    const borderline = send(904, { sent: 50, delivered: 49, bounced: 1 }); // 2%: warning
    const small = send(903, { sent: 10, delivered: 10, bounced: 5, spammed: 5 }); // 50%, but 10 of each
    const bodies = [...complaints, ...bounces, ...borderline, ...small];
    // Customer.io retries: every complaint and bounce of the spikes arrives twice, and counts once.
    const retries = bodies.filter((b) => /"metric":"(spammed|bounced)"/.test(b) && /"campaign_id":90[12]/.test(b));
    // A busy machine can make the receiver answer 503 (publish timeout): sent again, as Customer.io does.
    const result = await sendBodies({ url: stack.receiverUrl, key: stack.signingKey, bodies: [...bodies, ...retries], retry: { attempts: 5, delayMs: () => 250 } });
    expect(result.gaveUp).toEqual([]);
    expect(result.accepted).toHaveLength(bodies.length + retries.length);

    // Every event in the warehouse first: a run on half-landed data may judge other counts.
    await waitFor(async () => Number((await queryWarehouse(stack.warehousePath, 'SELECT COUNT(*) AS n FROM events_unique'))[0]!.n) >= bodies.length, { timeoutMs: 90_000, what: 'every event to land' });
    // Every copy is a row (a 503'd publish may still have landed: a copy more); each event is one.
    expect(Number((await queryWarehouse(stack.warehousePath, 'SELECT COUNT(*) AS n FROM events'))[0]!.n)).toBeGreaterThanOrEqual(bodies.length + retries.length);
    expect(Number((await queryWarehouse(stack.warehousePath, 'SELECT COUNT(*) AS n FROM events_unique'))[0]!.n)).toBe(bodies.length);
    // A run that read before the last rows landed finishes first (runNow queues behind it).
    await stack.guard.runNow();
    const landed = stack.guard.lines.length;
    // The running guard's next run (once a second here, once a minute under npm start) raises them.
    const raised = () => new Set(breaches(landed).map((e) => e.source_id));
    await waitFor(() => ['901', '902', '904'].every((id) => raised().has(id)), { timeoutMs: 60_000, what: 'the running guard to raise campaigns 901, 902 and 904' });
    const latest = (id: string) => breaches(landed).filter((e) => e.source_id === id).at(-1);
    expect(latest('901')).toMatchObject({ severity: 'ERROR', source: 'campaign', action_id: '1', channel: 'email', measure: 'complaint', level: 'critical', threshold: '0.3%', numerator: 2, denominator: 50, rate_text: '4%' });
    expect(latest('902')).toMatchObject({ severity: 'ERROR', measure: 'bounce', level: 'critical', threshold: '5%', numerator: 4, denominator: 50, rate_text: '8%' });
    expect(latest('904')).toMatchObject({ severity: 'WARNING', measure: 'bounce', level: 'warning', threshold: '2%', numerator: 1, denominator: 50 });
    expect(latest('902')!.summary).toBe(`campaign 902 action 1 (email): bounce rate 8% is at or above the critical threshold 5% — 4 bounces of 50 sent, event times ${String(latest('902')!.window_start)} – ${String(latest('902')!.window_end)}`);
    expect(breaches().filter((e) => e.source_id === '903')).toEqual([]);
    // Only the spiking measure of each campaign is raised.
    expect(new Set(breaches().map((e) => `${String(e.source_id)} ${String(e.measure)}`))).toEqual(new Set(['901 complaint', '902 bounce', '904 bounce']));
    // The log file holds what the terminal showed, as Cloud Logging holds the deployed guard's lines.
    const logged = readFileSync(stack.logFiles.guard, 'utf8');
    expect(logged).toContain('"source_id":"901"');
    expect(logged).toContain(LOG_EVENTS.deliverabilityGuardRun);
  }, 240_000);

  // Worst first: 4% complaints is 40 times its warning bar, 8% bounces 4 times its own.
  it('ops deliverability --local shows the same, worst first, judged with the stack\'s settings', async () => {
    const { code, stdout, stderr } = await runScript('ops', ['deliverability', '--local', '--json'], stack.cliEnv);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { settings: string; sources: Array<{ source_id: number; verdict: string; sent: number; spammed: number; bounced: number; breaches: Array<{ measure: string }> }> };
    expect(report.settings).toContain('from 40 delivered');
    expect(report.sources.map((s) => [s.source_id, s.verdict])).toEqual([[901, 'critical'], [902, 'critical'], [904, 'warning'], [903, 'unjudged']]);
    expect(report.sources.find((s) => s.source_id === 901)).toMatchObject({ sent: 50, spammed: 2, breaches: [{ measure: 'complaint' }] });
    expect(report.sources.find((s) => s.source_id === 902)).toMatchObject({ bounced: 4 });

    const table = await runScript('ops', ['deliverability', '--local'], stack.cliEnv);
    expect(table.code).toBe(0);
    const rows = table.stdout.split('\n').filter((l) => /^(CRITICAL|WARNING|ok|not judged)/.test(l));
    expect(rows.map((l) => l.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['CRITICAL complaint', 'campaign', '901'],
      ['CRITICAL bounce', 'campaign', '902'],
      ['WARNING bounce', 'campaign', '904'],
      ['not judged (volume)', 'campaign', '903'],
    ]);
    expect(table.stdout).toContain('4 source(s): 2 critical, 1 warning, 0 ok, 1 not judged');
    // The worst first when there are many.
    const top = await runScript('ops', ['deliverability', '--local', '--limit', '1'], stack.cliEnv);
    expect(top.stdout.split('\n').filter((l) => /^(CRITICAL|WARNING|ok|not judged)/.test(l))).toHaveLength(1);
    expect(top.stdout).toContain('CRITICAL complaint');
    expect(top.stdout).toContain('… and 3 more (--limit, or --json for all)');
  });
});
