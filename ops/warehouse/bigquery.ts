/** The warehouse reader for a deployed project: the queries of bigquery-queries.ts run as BigQuery jobs. */
import { BigQuery } from '@google-cloud/bigquery';
import type { AuthClient } from 'google-auth-library';
import { toDeliverabilityRow } from '../../shared/deliverability.js';
import { CommandFailed } from '../cli.js';
import { bigqueryQueries, type BigQueryRequest, type WarehouseTables } from './bigquery-queries.js';
import { isBodyHashId, splitUndated, toEventRow, toPersonRows, toTraceMatch, toTraceRow, type WarehouseReader } from './reader.js';

/** What went wrong with a query, in one line: the API's reason, not "no rows". */
export function queryFailure(error: unknown): CommandFailed {
  const e = error as { code?: number; message?: string; errors?: Array<{ reason?: string; message?: string }> };
  const reason = e.errors?.[0]?.reason;
  const message = (e.errors?.[0]?.message ?? e.message ?? String(error)).split('\n')[0];
  // The BigQuery subscription writes with the Storage Write API, whose recent rows DML can modify;
  // only the legacy streaming API's buffer refuses. Should it appear anyway, say what it means.
  if (/streaming buffer/i.test(message ?? '')) {
    return new CommandFailed(`BigQuery: ${message} — the table still holds rows in the legacy streaming buffer, which DML cannot change yet; run the erasure again later`);
  }
  if (/bytes billed/i.test(message ?? '') || reason === 'bytesBilledLimitExceeded') {
    return new CommandFailed(`BigQuery: ${message} — raise the cap with --max-gb if the scan is expected`);
  }
  return new CommandFailed(`BigQuery${e.code ? ` ${e.code}` : ''}${reason ? ` ${reason}` : ''}: ${message}`);
}

/** BigQuery's value wrappers (dates, timestamps, big numerics) as the plain values they hold. */
function plainValues(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v !== null && typeof v === 'object' && 'value' in v ? (v as { value: unknown }).value : v]));
}

/** The job options the reader sends (the fields of jobs.insert's query configuration it sets). */
export interface QueryJobOptions {
  query: string;
  params: Record<string, unknown>;
  maximumBytesBilled: string;
  useLegacySql: false;
  dryRun?: true;
}

/** The part of @google-cloud/bigquery's Job the reader uses. */
export interface QueryJob {
  /** The job resource as jobs.insert answered it (a dry run's estimate is in statistics). */
  metadata: unknown;
  getQueryResults(options?: { maxResults?: number; pageToken?: string; autoPaginate?: boolean }): Promise<[unknown[], unknown?, ...unknown[]]>;
  getMetadata(): Promise<[unknown, ...unknown[]]>;
}

/** The part of the BigQuery client the reader uses: tests stand it in (BigQuery has no emulator). */
export interface QueryClient {
  createQueryJob(options: QueryJobOptions): Promise<[QueryJob, ...unknown[]]>;
}

export function bigqueryReader(tables: WarehouseTables, maxBytes?: number, authClient?: AuthClient): WarehouseReader {
  const bigquery = new BigQuery({ projectId: tables.project, ...(authClient ? { authClient } : {}) });
  return queryClientReader(tables, { createQueryJob: (options) => bigquery.createQueryJob(options) }, maxBytes);
}

export function queryClientReader(tables: WarehouseTables, client: QueryClient, maxBytes?: number): WarehouseReader {
  const queries = bigqueryQueries(tables, maxBytes);

  const start = async (request: BigQueryRequest): Promise<QueryJob> => {
    try {
      const [job] = await client.createQueryJob({ query: request.query, params: request.params, maximumBytesBilled: request.maximumBytesBilled, useLegacySql: false, ...(request.dryRun ? { dryRun: true } : {}) });
      return job;
    } catch (error) {
      throw queryFailure(error);
    }
  };
  const rows = async (request: BigQueryRequest): Promise<Array<Record<string, unknown>>> => {
    const job = await start(request);
    try {
      return (await job.getQueryResults())[0] as Array<Record<string, unknown>>;
    } catch (error) {
      throw queryFailure(error);
    }
  };
  const count = async (request: BigQueryRequest) => Number((await rows(request))[0]?.n ?? 0);

  return {
    describe: `BigQuery table ${tables.project}.${tables.dataset}.events`,
    counts: async (range, scope) => splitUndated(await rows(queries.counts(range, scope))),
    async findEvent(eventId, range, scope) {
      return (await rows(queries.findEvent(eventId, range, isBodyHashId(eventId), scope))).map(toTraceRow);
    },
    findByTrace: async (traceId, range, scope) => (await rows(queries.findByTrace(traceId, range, scope))).map(toTraceMatch),
    rowsPublishedSince: (since, subscription) => count(queries.rowsPublishedSince(since, `/${subscription}`)),
    countForReplay: (selection) => count(queries.countForReplay(selection)),
    async readForReplay(selection, pageSize, onPage) {
      const job = await start(queries.readForReplay(selection));
      let total = 0;
      let pageToken: string | undefined;
      do {
        let page: Array<Record<string, unknown>>;
        try {
          const [result, next] = await job.getQueryResults({ maxResults: pageSize, pageToken, autoPaginate: false });
          page = result as Array<Record<string, unknown>>;
          pageToken = (next as { pageToken?: string } | null)?.pageToken;
        } catch (error) {
          throw queryFailure(error);
        }
        if (page.length > 0) await onPage(page.map(toEventRow));
        total += page.length;
      } while (pageToken);
      return total;
    },
    async estimateErasure(person, scope) {
      // A dry run answers at once with the statistics; nothing runs and nothing is billed.
      const job = await start(queries.erasePerson(person, { dryRun: true, scope }));
      const bytes = Number((job.metadata as { statistics?: { totalBytesProcessed?: string } }).statistics?.totalBytesProcessed ?? NaN);
      if (!Number.isFinite(bytes)) throw new CommandFailed('BigQuery: the dry run of the erasure returned no byte estimate');
      return { bytes, maxBytes: Number(queries.erasePerson(person, { scope }).maximumBytesBilled) };
    },
    deliverability: async (range, scope) => (await rows(queries.deliverability(range, scope))).map(toDeliverabilityRow),
    countPerson: async (person, scope) => toPersonRows(await rows(queries.countPerson(person, scope))),
    async erasePerson(person, scope) {
      const job = await start(queries.erasePerson(person, { scope }));
      try {
        await job.getQueryResults();
        const [metadata] = await job.getMetadata();
        return Number((metadata as { statistics?: { query?: { numDmlAffectedRows?: string } } }).statistics?.query?.numDmlAffectedRows ?? 0);
      } catch (error) {
        throw queryFailure(error);
      }
    },
    analystQuery: async (query) => (await rows(queries.analystQuery(query))).map(plainValues),
    async close() {},
  };
}
