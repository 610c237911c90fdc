/**
 * Builds the deployed guard: its configuration, and a reader that runs the table function as a
 * BigQuery job in the analysts' dataset with the byte cap, so a mistake (or a table grown past what
 * the window should read) fails the run instead of billing it.
 */
import { BigQuery } from '@google-cloud/bigquery';
import { deliverabilityQuery, loadGuardConfig, toDeliverabilityRow } from '../shared/deliverability.js';
import type { Env } from '../shared/config.js';
import { createLogger } from '../shared/log.js';
import { createGuardFunction, type GuardDependencies } from './guard.js';

export function buildGuard(env: Env) {
  const config = loadGuardConfig(env);
  const logger = createLogger({ level: config.logLevel, base: { component: 'guard' } });
  const bigquery = new BigQuery({ projectId: config.project });
  const read: GuardDependencies['read'] = async (window) => {
    const request = deliverabilityQuery(config.project, config.dataset, window, config.maxBytesBilled);
    const [job] = await bigquery.createQueryJob({ ...request, useLegacySql: false });
    const [rows] = await job.getQueryResults();
    const [metadata] = await job.getMetadata();
    const billed = (metadata as { statistics?: { query?: { totalBytesBilled?: string } } }).statistics?.query?.totalBytesBilled;
    return { rows: (rows as Array<Record<string, unknown>>).map(toDeliverabilityRow), bytesBilled: billed === undefined ? null : Number(billed) };
  };
  logger.info('guard configured', { dataset: config.dataset, max_bytes_billed: config.maxBytesBilled, window_hours: config.deliverability.windowHours, channels: config.deliverability.channels });
  return createGuardFunction({ config: config.deliverability, read, logger });
}
