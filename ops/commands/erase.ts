/** `ops erase`: remove one person's rows from the events table (a GDPR/CCPA erasure request). */
import { normalizeIdentifier } from '../../shared/pseudonym.js';
import { CommandFailed, UsageError, parse } from '../cli.js';
import { confirm } from '../confirm.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget } from '../target.js';
import { SINGLE_WORKSPACE, type PersonSelector, type WarehouseReader, type WorkspaceScope } from '../warehouse/reader.js';
import { WORKSPACE_OPTION, workspaceScope } from '../workspaces.js';

/** What an erasure of the events table cannot reach; printed after every run and in --help. */
export const ERASURE_LIMITS = `not reached by this erasure:
  - BigQuery time travel: deleted rows stay recoverable for BIGQUERY_TIME_TRAVEL_HOURS (48 h by
    default), then 7 days in BigQuery's fail-safe storage, which only Google support can restore
  - query results cached by BigQuery: about 24 hours, readable by whoever ran the query
  - Pub/Sub: the events topic keeps every message RETENTION_DAYS and a replay (seek) writes them back
    (erase again after any replay); snapshots keep theirs up to 7 days (ops snapshot list; delete
    them); the dead-letter subscription holds failed ones (ops dlq show)
  - Cloud Logging: the functions' logs, for the log bucket's retention (30 days for _Default); the
    handler logs an id that is an address or phone number only as its keyed hash, other ids as they are
  - dedupe records: the event id's hash, the outcome and a redacted error text, until DEDUPE_TTL_DAYS
  - Customer.io itself, which holds the person: erase the person there too`;

export const ERASE_HELP = `usage: npm run ops -- erase (--email ADDRESS | --cio-id ID | --id ID | --recipient R)... [--workspace W] [--yes]

Deletes every row of the events table that holds the person. --email matches the email, recipient
and customer_id columns, --recipient the recipient column, both whatever the letter case or
surrounding spaces (compared trimmed and lower-cased, as the analysts' hashes are); --cio-id and --id
match exactly. Give every identifier you have: a row may carry only one of them. The analysts' views
read the table, so they lose the rows too.

With several Customer.io workspaces (CIO_WORKSPACES) it erases the person's rows in every workspace
unless --workspace names one, and shows how many rows each workspace holds before it asks: the same
address in two workspaces is the same person to this warehouse, and an erasure that misses rows is
the failure that matters. Name the workspace when the request concerns one workspace's data only
(an agency erasing for one client).

An erasure reads every partition (the person's rows can be on any day), and a DELETE bills the whole
of every partition it changes. Before anything is read it shows BigQuery's dry-run estimate of the
DELETE and stops if that is over --max-gb; then it counts, asks, deletes and reports.

${ERASURE_LIMITS}

  --email ADDRESS      rows whose email, recipient or customer_id is ADDRESS
  --cio-id ID          rows whose cio_id is ID
  --id ID              rows whose customer_id is ID
  --recipient R        rows whose recipient is R (a phone number, an address)
  --workspace W        only workspace W's rows (default: every workspace's)
  --yes                do not ask for confirmation
${TARGET_HELP}`;

const GB = 1024 ** 3;
const gb = (bytes: number) => `${(bytes / GB).toFixed(bytes < GB ? 3 : 1)} GB`;

export async function erase(args: string[]): Promise<number> {
  const { values } = parse(args, { ...TARGET_OPTIONS, ...WORKSPACE_OPTION, email: { type: 'string' }, 'cio-id': { type: 'string' }, id: { type: 'string' }, recipient: { type: 'string' }, yes: { type: 'boolean' } });
  if (values.help) return void process.stdout.write(`${ERASE_HELP}\n`), 0;
  for (const flag of ['email', 'recipient'] as const) {
    if (values[flag] !== undefined && normalizeIdentifier(values[flag]) === null) throw new UsageError(`--${flag} is empty`);
  }
  const person: PersonSelector = {
    ...(values.email ? { email: values.email } : {}),
    ...(values['cio-id'] ? { cioId: values['cio-id'] } : {}),
    ...(values.id ? { customerId: values.id } : {}),
    ...(values.recipient ? { recipient: values.recipient } : {}),
  };
  if (Object.keys(person).length === 0) throw new UsageError('erase needs --email, --cio-id, --id or --recipient');
  const scope = workspaceScope(values);
  const target = await resolveTarget(values);
  try {
    return await eraseFrom(target.warehouse, person, { yes: values.yes, scope, write: (text) => process.stdout.write(text) });
  } finally {
    await target.close();
  }
}

/**
 * The erasure against one warehouse: estimate (free), refuse over the cap before anything is read,
 * count, ask, delete, report. Exit code 0 when done or nothing was there, 1 when the operator said no.
 */
export async function eraseFrom(warehouse: WarehouseReader, person: PersonSelector, options: { yes?: boolean; scope?: WorkspaceScope; write: (text: string) => void }): Promise<number> {
  const scope = options.scope ?? SINGLE_WORKSPACE;
  const who = `${Object.entries(person).map(([k, v]) => `${k}=${v}`).join(', ')}${scope.only !== null ? ` in workspace ${scope.only}` : ''}`;
  // The count and the DELETE both carry the cap; a DELETE over it would fail only after the
  // operator said yes. The dry run costs nothing and says so first.
  const estimate = await warehouse.estimateErasure(person, scope);
  if (estimate) {
    const line = `the DELETE would bill about ${gb(estimate.bytes)} (BigQuery dry run; the cap is ${gb(estimate.maxBytes)})`;
    if (estimate.bytes > estimate.maxBytes) {
      throw new CommandFailed(`${line}: nothing read, nothing deleted; rerun with --max-gb ${Math.ceil(estimate.bytes / GB)} or more to erase`);
    }
    options.write(`${line}\n`);
  }
  const found = await warehouse.countPerson(person, scope);
  const rows = found.reduce((n, f) => n + f.rows, 0);
  if (rows === 0) {
    options.write(`no row holds ${who} in the ${warehouse.describe}\n${ERASURE_LIMITS}\n`);
    return 0;
  }
  // Where they are, before anything goes: the operator sees which workspaces hold the person.
  if (scope.several && scope.only === null) options.write(`rows holding ${who}, per workspace: ${found.map((f) => `${f.workspace ?? '(no workspace)'} ${f.rows}`).join(', ')}\n`);
  if (!(await confirm(`Delete ${rows} row(s) holding ${who} from the ${warehouse.describe}? This cannot be undone after the time-travel window.`, options.yes))) {
    options.write('nothing deleted\n');
    return 1;
  }
  const deleted = await warehouse.erasePerson(person, scope);
  options.write(`deleted ${deleted} row(s) holding ${who}\n${ERASURE_LIMITS}\n`);
  return 0;
}
