/**
 * Wrong arguments get one clear line on stderr and exit code 2; help is there for every command.
 * A deployed command without Google credentials says what is missing and the fix, in one line.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gcpMetadata } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMetadataStandIn, type MetadataStandIn } from '../support/metadata-stand-in.js';
import { runScript } from '../support/run-script.js';

describe('argument errors', () => {
  // Each row is its own process: run several at a time.
  it.concurrent.each([
    ['ops', ['frobnicate'], 'unknown command "frobnicate"'],
    ['ops', ['replay', '--subscription', 'handler'], 'replay needs exactly one of --time or --snapshot'],
    ['ops', ['replay', '--time', '1h'], 'replay needs --subscription'],
    ['ops', ['replay', '--subscription', 'handler', '--time', 'last tuesday', '--project', 'p'], '--time must be an age like 30m, 6h, 2d or an ISO 8601 time'],
    // A time without a zone would be read as this machine's local time: refused, not guessed.
    ['ops', ['replay', '--subscription', 'handler', '--time', '2026-11-28T14:00:00', '--project', 'p'], 'with a zone (Z or +01:00): a time without one is ambiguous'],
    // Seeking to a future time acknowledges everything before it: a purge, refused.
    ['ops', ['replay', '--subscription', 'handler', '--time', '2999-01-01T00:00:00Z', '--project', 'p'], 'is in the future: seeking there acknowledges every message published before it, a purge, not a replay'],
    ['ops', ['replay', '--from-warehouse', '--project', 'p'], 'replay --from-warehouse needs --since'],
    ['ops', ['replay', '--from-warehouse', '--since', '2d', '--subscription', 'handler', '--project', 'p'], '--from-warehouse takes --since/--until, not --subscription'],
    ['ops', ['trace', '--project', 'p'], 'trace needs exactly one EVENT_ID'],
    ['ops', ['erase', '--project', 'p'], 'erase needs --email, --cio-id, --id or --recipient'],
    ['ops', ['stats', '--since', '1h', '--until', '2h', '--project', 'p'], '--since must be before --until'],
    ['ops', ['doctor', '--timeout', '0', '--project', 'p'], '--timeout must be a positive whole number'],
    ['ops', ['replay', '--nope'], "Unknown option '--nope'"],
    ['ops', ['dlq', 'purge', '--project', 'p'], 'unknown dlq action "purge"'],
    ['ops', ['dlq', 'show', '--limit', '0', '--project', 'p'], '--limit must be a positive whole number'],
    ['ops', ['snapshot', 'create', '--project', 'p'], 'snapshot create needs NAME and --subscription'],
    ['ops', ['stats', '--since', 'whenever', '--project', 'p'], '--since must be an age like 30m, 6h, 2d or an ISO 8601 time'],
    ['ops', ['smoke', '--project', 'p'], 'smoke needs --url and --key'],
    ['ops', ['invoker-check', 'on', '--project', 'p'], 'say show or off'],
    ['ops', ['invoker-check', 'off'], 'name the service with --service, or the project with --project or GOOGLE_CLOUD_PROJECT'],
    ['ops', ['deliverability', '--since', 'lately', '--project', 'p'], '--since must be an age like 30m, 6h, 2d or an ISO 8601 time'],
    ['ops', ['deliverability', '--limit', '0', '--project', 'p'], '--limit must be a positive whole number'],
    // One workspace (CIO_WORKSPACES unset): no workspace to choose.
    ['ops', ['stats', '--workspace', 'acme', '--project', 'p'], '--workspace acme: the deployment has one workspace (CIO_WORKSPACES is not set here); leave --workspace out'],
    ['ops', ['replay', '--subscription', 'handler', '--time', '1h', '--workspace', 'acme', '--project', 'p'], '--workspace needs --from-warehouse: a seek redelivers every workspace\'s messages (Pub/Sub cannot seek a subset)'],
    ['send', ['--object-type', 'fax', '--url', 'http://127.0.0.1:9/', '--key', 'k'], 'unknown --object-type "fax"'],
    ['send', ['--object-type', 'sms', '--metric', 'opened', '--url', 'http://127.0.0.1:9/', '--key', 'k'], 'no sms emits --metric "opened"'],
    ['send', ['--count', '0', '--url', 'http://127.0.0.1:9/', '--key', 'k'], '--count must be a positive whole number (got "0")'],
    // A negative number after an option is its value (not another option), refused for what it is.
    ['send', ['--duplicates', '-3', '--url', 'http://127.0.0.1:9/', '--key', 'k'], '--duplicates must be a whole number, 0 or more (got "-3")'],
    ['send', ['--duplicates=-3', '--url', 'http://127.0.0.1:9/', '--key', 'k'], '--duplicates must be a whole number, 0 or more (got "-3")'],
    ['send', ['--count', '-1', '--url', 'http://127.0.0.1:9/', '--key', 'k'], '--count must be a positive whole number (got "-1")'],
    ['send', ['--metric', 'bounce', '--url', 'http://127.0.0.1:9/', '--key', 'k'], 'no object type emits --metric "bounce": metrics are '],
    ['send', ['--object-type', 'email', '--metric', 'bounce', '--url', 'http://127.0.0.1:9/', '--key', 'k'], 'no email emits --metric "bounce": email metrics are drafted, attempted, sent, delivered, opened, clicked, converted, unsubscribed, bounced, dropped, spammed, failed, undeliverable'],
    // Two targets named at once: refused, not one silently ignored.
    ['ops', ['stats', '--local', '--project', 'foo'], '--local and --project name two different targets: use one'],
    ['ops', ['dlq', 'show', '--local', '--prefix', 'acme'], '--local and --prefix name two different targets: use one'],
    // Names Pub/Sub would refuse are refused first, with the rule they break.
    ['ops', ['snapshot', 'create', 's1', '--subscription', 'handler', '--project', 'p'], 'snapshot name "s1" is shorter than 3 characters: Pub/Sub names are 3–255 characters, start with a letter'],
    ['ops', ['snapshot', 'delete', 'goog-snap', '--project', 'p'], 'snapshot name "goog-snap" starts with "goog"'],
    ['ops', ['replay', '--subscription', 'handler', '--snapshot', '1st-try', '--project', 'p'], 'snapshot name "1st-try" does not start with a letter'],
    ['ops', ['snapshot', 'create', 'before test', '--subscription', 'handler', '--project', 'p'], 'snapshot name "before test" holds " "'],
  ] as const)('%s %j', async (script, args, message) => {
    const { code, stdout, stderr } = await runScript(script, [...args], { CIO_LOCAL_STATE_DIR: '/nonexistent', GOOGLE_CLOUD_PROJECT: '' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(message);
  });

  it.concurrent.each([
    [['erase', '--email', 'a@example.com', '--workspace', 'gamma'], 2, 'ops: --workspace "gamma" is none of the deployment\'s workspaces: acme, beta (see --help)'],
    [['deliverability', '--workspace', 'Acme'], 2, 'ops: --workspace "Acme" is none of the deployment\'s workspaces: acme, beta (see --help)'],
  ] as const)('deployed, --workspace is checked against CIO_WORKSPACES before any credential is looked for: ops %j', async (args, exitCode, line) => {
    const { code, stdout, stderr } = await runScript('ops', [...args, '--project', 'p'], { CIO_WORKSPACES: 'acme,beta:eu', GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/key.json' });
    expect(code).toBe(exitCode);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(line);
  });

  it('deployed, an invalid CIO_WORKSPACES is one line, exit 1', async () => {
    const { code, stderr } = await runScript('ops', ['stats', '--workspace', 'acme', '--project', 'p'], { CIO_WORKSPACES: 'acme,acme' });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('ops: CIO_WORKSPACES: "acme" is named twice');
  });

  it('ops without a project or --local says how to name one', async () => {
    const { code, stderr } = await runScript('ops', ['stats'], { GOOGLE_CLOUD_PROJECT: '' });
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('ops: name the project with --project or GOOGLE_CLOUD_PROJECT, or use --local (see --help)');
  });

  it('--local without a running stack fails with exit 1 and says what to do', async () => {
    const { code, stderr } = await runScript('ops', ['stats', '--local'], { CIO_LOCAL_STATE_DIR: '/nonexistent' });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('ops: no local stack is running (/nonexistent/stack.json is missing): run npm start first');
  });

  it('ops deliverability judges with the deploy\'s settings, and refuses bad ones in one line before querying', async () => {
    const { code, stderr } = await runScript('ops', ['deliverability', '--project', 'p'], { DELIVERABILITY_BOUNCE_WARNING: '6%', DELIVERABILITY_MIN_SENT: 'lots' });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('ops: DELIVERABILITY_MIN_SENT: must be a whole number from 1 to 100000000 (got "lots"); DELIVERABILITY_BOUNCE_WARNING: (6%) must be below DELIVERABILITY_BOUNCE_CRITICAL (5%)');
  });

  it('ops <command> --help exits 0 with usage, for every command ops --help lists', async () => {
    const { code, stdout } = await runScript('ops', ['--help']);
    expect(code).toBe(0);
    const commands = [...stdout.matchAll(/^ {2}([a-z-]+) {2,}\S/gm)].map((m) => m[1]!);
    expect(commands).toEqual(expect.arrayContaining(['doctor', 'trace', 'queries', 'invoker-check']));
    const helps = await Promise.all(commands.map(async (command) => ({ command, ...(await runScript('ops', [command, '--help'])) })));
    for (const { command, code: exit, stdout: usage } of helps) {
      expect(exit, command).toBe(0);
      expect(usage, command).toMatch(/^usage: npm run ops -- /);
    }
  });

  it('send --help exits 0', async () => {
    const { code, stdout } = await runScript('send', ['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('usage: npm run send');
  });
});

describe('deployed commands without Google credentials', () => {
  const PROJECT = 'acme-prod-1';
  /** A machine with no gcloud login: an empty home and gcloud config directory. */
  const empty = mkdtempSync(join(tmpdir(), 'no-credentials-'));
  const noLogin = { HOME: empty, CLOUDSDK_CONFIG: empty, GOOGLE_CLOUD_PROJECT: PROJECT, PUBSUB_EMULATOR_HOST: '', FIRESTORE_EMULATOR_HOST: '', CIO_OPS_GOOGLE_API_ENDPOINT: '' };
  let metadata: MetadataStandIn;
  beforeAll(async () => {
    metadata = await startMetadataStandIn();
  });
  afterAll(() => metadata?.close());

  const commands = [
    ['doctor'],
    ['dlq', 'show'],
    ['dlq', 'redrive', '--yes'],
    ['trace', 'evt-1'],
    ['replay', '--subscription', 'handler', '--time', '1h', '--yes'],
    ['replay', '--subscription', 'handler', '--snapshot', 'before-test', '--yes'],
    ['replay', '--from-warehouse', '--since', '2d', '--yes'],
    ['snapshot', 'list'],
    ['snapshot', 'create', 'before-test', '--subscription', 'handler'],
    ['snapshot', 'delete', 'before-test', '--yes'],
    ['stats'],
    ['smoke', '--url', 'http://127.0.0.1:9/', '--key', 'k'],
    ['erase', '--email', 'person@example.com', '--yes'],
    ['queries'],
    ['deliverability'],
    ['invoker-check', 'show'],
  ];

  const expectOneLine = (result: { code: number; stdout: string; stderr: string }, message: string) => {
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
    expect(result.stderr).toContain('gcloud auth application-default login');
    expect(result.stderr).not.toContain('    at ');
    expect(result.stderr).not.toContain('MetadataLookupWarning');
  };

  it.concurrent.each(commands.map((args) => [args.join(' '), args] as const))('ops %s: says GOOGLE_APPLICATION_CREDENTIALS names a missing file, and the fix', async (_, args) => {
    const started = performance.now();
    const result = await runScript('ops', [...args, '--project', PROJECT], { ...noLogin, GOOGLE_APPLICATION_CREDENTIALS: join(empty, 'missing.json'), METADATA_SERVER_DETECTION: 'none' });
    // Only a bound against a hang: the answer comes before any client is built.
    expect(performance.now() - started).toBeLessThan(30_000);
    expectOneLine(result, `ops: GOOGLE_APPLICATION_CREDENTIALS names ${join(empty, 'missing.json')}, which cannot be read`);
  });

  it.concurrent.each([['stats'], ['snapshot', 'list'], ['doctor'], ['dlq', 'show']].map((args) => [args.join(' '), args] as const))('ops %s: with no login at all says so, without probing a metadata server off Google Cloud', async (_, args) => {
    const result = await runScript('ops', [...args, '--project', PROJECT], {
      ...noLogin,
      GOOGLE_APPLICATION_CREDENTIALS: '',
      // Left to the CLI to decide: it must not probe where nothing says this is Google Cloud.
      METADATA_SERVER_DETECTION: '',
      GCE_METADATA_HOST: metadata.host,
    });
    expectOneLine(result, 'ops: no Google credentials found (application default credentials): run gcloud auth application-default login');
    if (!gcpMetadata.getGCPResidency()) expect(metadata.probes).toEqual([]);
  });
});
