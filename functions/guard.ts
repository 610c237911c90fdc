/**
 * The deliverability guard: reads the counts of the last window from the warehouse, judges every
 * message source (shared/deliverability.ts), and writes one structured log entry per breach —
 * WARNING for a warning, ERROR for a critical rate — which the alert policies turn into
 * notifications. Deployed it is a Functions Framework target that Cloud Scheduler calls; locally
 * `npm start` runs the same function on a timer against the DuckDB warehouse.
 */
import type { HttpFunction } from '@google-cloud/functions-framework';
import {
  breachFields,
  breachesOf,
  guardWindow,
  judge,
  sourceLabel,
  worstFirst,
  type Breach,
  type DeliverabilityConfig,
  type DeliverabilityRow,
  type Judgement,
  type TimeWindow,
} from '../shared/deliverability.js';
import type { Logger } from '../shared/log.js';
import { LOG_EVENTS } from '../shared/log-events.js';

export interface GuardRead {
  rows: DeliverabilityRow[];
  /** What the query billed, where the engine says (BigQuery). */
  bytesBilled?: number | null;
}

export interface GuardDependencies {
  config: DeliverabilityConfig;
  read(window: TimeWindow): Promise<GuardRead>;
  logger: Logger;
  now?: () => Date;
}

export interface GuardReport {
  window: { from: string; to: string };
  /** Sources with events in the window. */
  sources: number;
  /** Of those, the ones with at least one rate judged. */
  judged: number;
  breaches: Array<{ source: string; measure: string; level: string; summary: string }>;
  judgements: Judgement[];
}

/** One evaluation of the window ending now. Logs and rethrows when the warehouse cannot answer. */
export async function runGuard({ config, read, logger, now = () => new Date() }: GuardDependencies): Promise<GuardReport> {
  const window = guardWindow(now(), config);
  let result: GuardRead;
  try {
    result = await read(window);
  } catch (error) {
    logger.error(LOG_EVENTS.deliverabilityGuardFailed, { error: (error as Error).message.split('\n')[0], window_start: window.from.toISOString(), window_end: window.to.toISOString() });
    throw error;
  }
  const judgements = worstFirst(result.rows.map((row) => judge(row, config)), config);
  const breaches: Breach[] = judgements.flatMap((j) => breachesOf(j, config));
  for (const breach of breaches) {
    const fields = breachFields(breach, window);
    if (breach.level === 'critical') logger.error(LOG_EVENTS.deliverabilityBreach, fields);
    else logger.warn(LOG_EVENTS.deliverabilityBreach, fields);
  }
  const report = {
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    sources: judgements.length,
    judged: judgements.filter((j) => j.verdict !== 'unjudged').length,
    breaches: breaches.map((b) => ({ source: sourceLabel(b.judgement.row), measure: b.measure, level: b.level, summary: String(breachFields(b, window).summary) })),
    judgements,
  };
  logger.info(LOG_EVENTS.deliverabilityGuardRun, {
    window_start: report.window.from,
    window_end: report.window.to,
    sources: report.sources,
    judged: report.judged,
    breaches: breaches.length,
    ...(result.bytesBilled === undefined ? {} : { bytes_billed: result.bytesBilled }),
  });
  return report;
}

/**
 * The HTTP target Cloud Scheduler calls (POST, with an OIDC token Cloud Run checks): 200 with what
 * was found, 500 when the warehouse could not answer — Cloud Scheduler records the failed attempt,
 * and the next run comes at the next interval.
 */
export function createGuardFunction(deps: GuardDependencies): HttpFunction {
  return async (req, res) => {
    if (req.method !== 'POST') {
      res.status(405).set('allow', 'POST').json({ error: 'POST to run the guard' });
      return;
    }
    try {
      const report = await runGuard(deps);
      res.status(200).json({ window: report.window, sources: report.sources, judged: report.judged, breaches: report.breaches });
    } catch {
      res.status(500).json({ error: 'the warehouse could not answer; see the log' });
    }
  };
}
