/** `ops erase`: remove one person's rows from the events table (a GDPR/CCPA erasure request). */
import { UsageError, parse } from '../cli.js';
import { confirm } from '../confirm.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget } from '../target.js';
import type { PersonSelector } from '../warehouse/reader.js';

export const ERASE_HELP = `usage: npm run ops -- erase (--email ADDRESS | --cio-id ID | --id ID | --recipient R)... [--yes]

Deletes every row of the events table that holds the person: by email (the email and recipient
columns), Customer.io's cio_id, the id, or a recipient (phone number, address). Counts first, asks,
then deletes and reports how many rows went. Give several identifiers to catch rows that carry only
one of them. The analysts' views read the table, so they lose the rows too.

An erasure reads every partition (the person's rows can be on any day): it is the one ops query
not bounded by event time. --max-gb still caps it.

What it cannot reach, said again after each run:
  - rows the BigQuery subscription wrote in the last ~30 minutes (its Storage Write API stream
    holds them briefly): run the same command again later;
  - copies Pub/Sub keeps for replay: the events topic retains messages RETENTION_DAYS, and a replay
    (seek) would write them back: erase again after any replay in that window;
  - the dead-letter subscription: look with ops dlq show;
  - BigQuery time travel keeps deleted rows recoverable BIGQUERY_TIME_TRAVEL_HOURS (48 h by default);
  - Customer.io itself, which holds the person: erase there too.
The handler's logs carry an email only as its keyed hash; dedupe records hold no identifier.

  --email ADDRESS      rows whose email or recipient is ADDRESS
  --cio-id ID          rows whose cio_id is ID
  --id ID              rows whose customer_id is ID
  --recipient R        rows whose recipient is R
  --yes                do not ask for confirmation
${TARGET_HELP}`;

export const ERASURE_LIMITS = `not reached by this erasure:
  - rows written in the last ~30 minutes by the BigQuery subscription's stream: run it again later
  - copies in Pub/Sub kept for replay (topic retention): erase again after any replay
  - the dead-letter subscription: check with ops dlq show
  - BigQuery time travel: deleted rows stay recoverable for BIGQUERY_TIME_TRAVEL_HOURS
  - Customer.io itself: erase the person there too`;

export async function erase(args: string[]): Promise<number> {
  const { values } = parse(args, { ...TARGET_OPTIONS, email: { type: 'string' }, 'cio-id': { type: 'string' }, id: { type: 'string' }, recipient: { type: 'string' }, yes: { type: 'boolean' } });
  if (values.help) return void process.stdout.write(`${ERASE_HELP}\n`), 0;
  const person: PersonSelector = {
    ...(values.email ? { email: values.email } : {}),
    ...(values['cio-id'] ? { cioId: values['cio-id'] } : {}),
    ...(values.id ? { customerId: values.id } : {}),
    ...(values.recipient ? { recipient: values.recipient } : {}),
  };
  if (Object.keys(person).length === 0) throw new UsageError('erase needs --email, --cio-id, --id or --recipient');
  const who = Object.entries(person).map(([k, v]) => `${k}=${v}`).join(', ');
  const target = await resolveTarget(values);
  try {
    const rows = await target.warehouse.countPerson(person);
    if (rows === 0) {
      process.stdout.write(`no row holds ${who} in the ${target.warehouse.describe}\n${ERASURE_LIMITS}\n`);
      return 0;
    }
    if (!(await confirm(`Delete ${rows} row(s) holding ${who} from the ${target.warehouse.describe}? This cannot be undone after the time-travel window.`, values.yes))) {
      process.stdout.write('nothing deleted\n');
      return 1;
    }
    const deleted = await target.warehouse.erasePerson(person);
    process.stdout.write(`deleted ${deleted} row(s) holding ${who}\n${ERASURE_LIMITS}\n`);
    return 0;
  } finally {
    await target.close();
  }
}
