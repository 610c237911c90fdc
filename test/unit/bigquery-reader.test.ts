/**
 * The BigQuery reader's erasure on a stand-in of the small client interface it uses (BigQuery has
 * no emulator): the estimate is a dry run of the very DELETE the erasure sends, read from the job's
 * statistics.totalBytesProcessed, and nothing runs for it. The stand-in answers as jobs.insert does
 * (REST reference, Job resource): a dry-run job comes back at once with the statistics and no
 * results; any other job runs, which for a DELETE means rows go.
 */
import { describe, expect, it } from 'vitest';
import { CommandFailed } from '../../ops/cli.js';
import { DEFAULT_MAX_BYTES, bigqueryQueries } from '../../ops/warehouse/bigquery-queries.js';
import { queryClientReader, type QueryClient, type QueryJob, type QueryJobOptions } from '../../ops/warehouse/bigquery.js';

const tables = { project: 'acme-prod-1', dataset: 'cio_webhooks', analyticsDataset: 'cio_analytics' };
const person = { email: 'Erase.Me@Example.COM', cioId: 'c1' };

/** A BigQuery stand-in: every job asked for, the statements it actually ran, and a dry run's estimate. */
function standIn(options: { estimate?: string | null; affected?: string } = {}) {
  const jobs: QueryJobOptions[] = [];
  const ran: string[] = [];
  const client: QueryClient = {
    async createQueryJob(request) {
      jobs.push(request);
      if (request.dryRun) {
        const statistics = options.estimate === null ? { creationTime: '1767225600000' } : { creationTime: '1767225600000', totalBytesProcessed: options.estimate ?? '734003200', query: { totalBytesProcessed: options.estimate ?? '734003200', statementType: 'DELETE' } };
        const job: QueryJob = {
          metadata: { kind: 'bigquery#job', configuration: { dryRun: true, query: { query: request.query } }, status: { state: 'DONE' }, statistics },
          getQueryResults: async () => {
            throw new Error('a dry run has no results');
          },
          getMetadata: async () => [job.metadata],
        };
        return [job];
      }
      ran.push(request.query);
      const done = { kind: 'bigquery#job', status: { state: 'DONE' }, statistics: { query: { statementType: 'DELETE', numDmlAffectedRows: options.affected ?? '3' } } };
      return [{ metadata: { kind: 'bigquery#job', status: { state: 'RUNNING' }, statistics: { creationTime: '1767225600000' } }, getQueryResults: async () => [[]], getMetadata: async () => [done] }];
    },
  };
  return { client, jobs, ran };
}

describe('the erasure on BigQuery', () => {
  it('estimates with a dry run of the same DELETE: dryRun set, the bytes read from statistics.totalBytesProcessed, nothing run', async () => {
    const { client, jobs, ran } = standIn({ estimate: '734003200' });
    const estimate = await queryClientReader(tables, client).estimateErasure(person);
    expect(estimate).toEqual({ bytes: 734003200, maxBytes: DEFAULT_MAX_BYTES });
    const deleteStatement = bigqueryQueries(tables).erasePerson(person);
    expect(jobs).toEqual([{ query: deleteStatement.query, params: deleteStatement.params, maximumBytesBilled: String(DEFAULT_MAX_BYTES), useLegacySql: false, dryRun: true }]);
    expect(jobs[0]!.query).toMatch(/^DELETE FROM `acme-prod-1\.cio_webhooks\.events` WHERE /);
    // Without dryRun BigQuery would have run the DELETE: the estimate must not erase anything.
    expect(ran).toEqual([]);
  });

  it('dry-runs one workspace\'s DELETE with --workspace, under the --max-gb cap', async () => {
    const { client, jobs, ran } = standIn({ estimate: '1024' });
    const scope = { several: true, only: 'acme' };
    expect(await queryClientReader(tables, client, 2 * 1024 ** 3).estimateErasure(person, scope)).toEqual({ bytes: 1024, maxBytes: 2 * 1024 ** 3 });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ dryRun: true, maximumBytesBilled: String(2 * 1024 ** 3), params: { workspace: 'acme' } });
    expect(jobs[0]!.query).toBe(bigqueryQueries(tables).erasePerson(person, { scope }).query);
    expect(ran).toEqual([]);
  });

  it('says so in one line when the dry run carries no estimate', async () => {
    const { client } = standIn({ estimate: null });
    const failure = queryClientReader(tables, client).estimateErasure(person);
    await expect(failure).rejects.toBeInstanceOf(CommandFailed);
    await expect(failure).rejects.toThrow('BigQuery: the dry run of the erasure returned no byte estimate');
  });

  it('runs the DELETE itself without dryRun, and counts the rows it removed', async () => {
    const { client, jobs, ran } = standIn({ affected: '3' });
    expect(await queryClientReader(tables, client).erasePerson(person)).toBe(3);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).not.toHaveProperty('dryRun');
    expect(ran).toEqual([bigqueryQueries(tables).erasePerson(person).query]);
  });
});
