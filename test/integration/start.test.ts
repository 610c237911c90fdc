/**
 * `npm start` as the real process a newcomer runs: one stack per state directory, stopped by every
 * signal a terminal sends, nothing left running when it is killed outright, listening on loopback
 * only, its settings checked with one line each, and no metadata-server probe anywhere.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLER_VARIABLES, RECEIVER_VARIABLES } from '../../shared/config.js';
import { STACK_SETS, forwardedEnv } from '../../scripts/local/local-stack.js';
import { freePort } from '../../scripts/local/emulators.js';
import { startFunction } from '../../scripts/local/function-process.js';
import { LOOPBACK_HEX, accepts, listeningAddresses, runningStack, spawnStart, stackPorts, type StartProcess } from '../support/start-process.js';
import { startMetadataStandIn, type MetadataStandIn } from '../support/metadata-stand-in.js';
import { runScript } from '../support/run-script.js';
import { waitFor } from '../support/waiting.js';

let metadata: MetadataStandIn;
const started: StartProcess[] = [];

/** Google's libraries left to decide for themselves whether to probe: only our own settings prevent it. */
const probeWatched = () => ({ METADATA_SERVER_DETECTION: undefined, GCE_METADATA_HOST: metadata.host });
/** Its own emulators (none shared), so their fate is the stack's. */
const ownEmulators = { PUBSUB_EMULATOR_HOST: undefined, FIRESTORE_EMULATOR_HOST: undefined };

beforeAll(async () => {
  metadata = await startMetadataStandIn();
});

afterAll(async () => {
  // Whatever a failed test left running.
  for (const start of started) if (start.child.exitCode === null) start.child.kill('SIGKILL');
  metadata?.close();
});

const nonLoopbackAddress = () => Object.values(networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4')?.address;

describe('npm start', () => {
  it('refuses a second start while one runs, says where it runs and how to stop it; SIGHUP stops everything', { timeout: 180_000 }, async () => {
    const first = spawnStart({ ...ownEmulators, ...probeWatched(), PORT: String(await freePort()) });
    started.push(first);
    const record = await runningStack(first);
    const stack = record.stack!;
    const ports = stackPorts(record);

    // The receiver and the handler listen on loopback only, as the banner says.
    expect(first.output().stdout).toContain('listening on   127.0.0.1 only');
    for (const url of [stack.receiverUrl, stack.handlerUrl]) {
      const port = Number(new URL(url).port);
      const addresses = listeningAddresses(port);
      if (addresses) {
        expect(addresses.length, url).toBeGreaterThan(0);
        for (const address of addresses) expect(LOOPBACK_HEX, `${url} listens on ${address}`).toContain(address);
      }
      const outside = nonLoopbackAddress();
      if (outside) expect(await accepts(port, outside), `${url} through ${outside}`).toBe(false);
      expect(await accepts(port)).toBe(true);
    }

    const second = spawnStart({ PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST!, FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST!, PORT: String(await freePort()) }, first.stateDir);
    started.push(second);
    expect(await second.exited).toBe(1);
    // Refused before it starts anything, or says it is starting.
    expect(second.output().stdout).toBe('');
    const refusal = second.output().stderr.trim();
    expect(refusal.split('\n')).toHaveLength(1);
    expect(refusal).toContain(`pid ${first.child.pid}`);
    expect(refusal).toContain(stack.receiverUrl);
    expect(refusal).toContain(first.stateDir);
    expect(refusal).toContain(`kill ${first.child.pid}`);

    // The first is untouched: its stack file stands, the tools still find it.
    const stats = await runScript('ops', ['stats', '--local', '--json'], { CIO_LOCAL_STATE_DIR: first.stateDir, METADATA_SERVER_DETECTION: '', GCE_METADATA_HOST: metadata.host });
    expect(stats.stderr).toBe('');
    expect(stats.code).toBe(0);

    first.child.kill('SIGHUP');
    expect(await first.exited).toBe(0);
    expect(first.output().stdout).toContain('SIGHUP: stopping');
    for (const port of ports) expect(await accepts(port), `port ${port} after SIGHUP`).toBe(false);
    expect(existsSync(join(first.stateDir, 'stack.json'))).toBe(false);
    // Neither the stack, its functions nor the ops CLI looked for a metadata server.
    expect(metadata.probes).toEqual([]);
  });

  it('leaves nothing running when killed with SIGKILL, and the next start recovers from the stale file', { timeout: 180_000 }, async () => {
    const doomed = spawnStart({ ...ownEmulators, PORT: String(await freePort()) });
    started.push(doomed);
    const record = await runningStack(doomed);
    const ports = stackPorts(record);
    for (const port of ports) expect(await accepts(port)).toBe(true);

    doomed.child.kill('SIGKILL');
    await doomed.exited;
    // The watchdogs stop the emulators' process groups and the functions: every port comes free.
    await waitFor(async () => (await Promise.all(ports.map((p) => accepts(p)))).every((open) => !open), { timeoutMs: 30_000, what: 'every port of the killed stack to be free' });

    // The file it left is not obeyed: the tools say the stack is gone.
    const stale = await runScript('ops', ['stats', '--local'], { CIO_LOCAL_STATE_DIR: doomed.stateDir });
    expect(stale.code).toBe(1);
    expect(stale.stderr.trim()).toContain(`stack.json is stale (the npm start that wrote it (pid ${doomed.child.pid}) is gone)`);

    const next = spawnStart({ PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST!, FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST!, PORT: String(await freePort()) }, doomed.stateDir);
    started.push(next);
    const recovered = await runningStack(next);
    expect(recovered.owner.pid).toBe(next.child.pid);
    expect(next.output().stdout).toContain('stack.json was stale');
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
  });

  it.each([
    [{ PORT: 'abc' }, 'npm start: PORT must be a port number from 1 to 65535 (got "abc")'],
    [{ PORT: '70000' }, 'npm start: PORT must be a port number from 1 to 65535 (got "70000")'],
    [{ LOCAL_BIND_HOST: 'everywhere' }, 'npm start: LOCAL_BIND_HOST must be an IP address'],
  ])('refuses %j with one line naming it', async (env, message) => {
    const start = spawnStart(env);
    started.push(start);
    expect(await start.exited).toBe(1);
    expect(start.output().stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
    expect(existsSync(join(start.stateDir, 'stack.json'))).toBe(false);
  });

  it('prints its usage for --help and refuses any other argument in one line, starting nothing', async () => {
    const help = spawnStart({}, undefined, ['--help']);
    started.push(help);
    expect(await help.exited).toBe(0);
    expect(help.output().stdout).toMatch(/^usage: npm start /);
    expect(help.output().stdout).toContain('CIO_LOCAL_STATE_DIR');
    const wrong = spawnStart({}, undefined, ['--port', '9000']);
    started.push(wrong);
    expect(await wrong.exited).toBe(2);
    expect(wrong.output().stderr.trim().split('\n')).toEqual(['npm start: takes no arguments (got "--port"): its settings are environment variables; npm start -- --help lists them']);
    for (const start of [help, wrong]) expect(existsSync(join(start.stateDir, 'stack.json'))).toBe(false);
  });

  it('refuses a PORT that is taken, rather than quietly choosing another', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    try {
      const start = spawnStart({ PORT: String(port) });
      started.push(start);
      expect(await start.exited).toBe(1);
      expect(start.output().stderr.trim().split('\n')).toEqual([`npm start: PORT ${port} is in use on 127.0.0.1: stop what holds it, or choose another PORT`]);
    } finally {
      holder.close();
    }
  });

  it('hands the functions every variable they read, so the handler\'s own check refuses DEDUPE_TTL_DAYS=3', { timeout: 60_000 }, async () => {
    const start = spawnStart({ PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST!, FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST!, PORT: String(await freePort()), DEDUPE_TTL_DAYS: '3' });
    started.push(start);
    expect(await start.exited).toBe(1);
    const stderr = start.output().stderr.trim();
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^npm start: handler: DEDUPE_TTL_DAYS: \(3 days\) must outlast CIO_SIGNATURE_MAX_AGE_SECONDS/);
    // Nothing stays behind: the state directory is free again.
    expect(existsSync(join(start.stateDir, 'stack.json'))).toBe(false);
  });

  it('listens where LOCAL_BIND_HOST says when the user asks for every interface', async () => {
    const receiver = await startFunction({ target: 'receiver', host: '0.0.0.0', env: { GOOGLE_CLOUD_PROJECT: process.env.GOOGLE_CLOUD_PROJECT, PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST, CIO_WEBHOOK_SIGNING_KEYS: 'k' } });
    try {
      expect(receiver.url).toBe(`http://127.0.0.1:${receiver.port}/`);
      const addresses = listeningAddresses(receiver.port);
      if (addresses) expect(addresses).toEqual(['00000000']);
    } finally {
      await receiver.stop();
    }
  });
});

describe('forwardedEnv', () => {
  it('forwards every variable each function reads, except the ones the stack sets itself', () => {
    const env = Object.fromEntries([...RECEIVER_VARIABLES, ...HANDLER_VARIABLES, 'UNRELATED'].map((name) => [name, `value-of-${name}`]));
    const { receiver, handler } = forwardedEnv(env);
    expect(Object.keys(receiver).sort()).toEqual(RECEIVER_VARIABLES.filter((n) => !STACK_SETS.includes(n)).sort());
    expect(Object.keys(handler).sort()).toEqual(HANDLER_VARIABLES.filter((n) => !STACK_SETS.includes(n)).sort());
    expect(handler.DEDUPE_TTL_DAYS).toBe('value-of-DEDUPE_TTL_DAYS');
    // A project id in the shell (the user's real one) must not redirect the local topology.
    expect(receiver.GOOGLE_CLOUD_PROJECT).toBeUndefined();
  });
});
