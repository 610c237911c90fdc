/**
 * `npm run synth` as a user runs it: offline, without cdktf-cli, writing the stack JSON and the
 * bundle asset — the same bytes on every run of one commit.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from '../../scripts/local/function-process.js';

const run = promisify(execFile);
/** `npm run synth` with this umask (through sh, the only way to set one for a child). */
const npm = (env: Record<string, string>, umask = '022') =>
  run('sh', ['-c', `umask ${umask} && exec npm run --silent synth`], { cwd: ROOT, env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

/** Every file under `dir`: its path relative to `dir`, and its bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return new Map(files.map((e) => [relative(dir, join(e.parentPath, e.name)), readFileSync(join(e.parentPath, e.name))]));
}

function expectSameBytes(first: Map<string, Buffer>, second: Map<string, Buffer>) {
  expect([...second.keys()].sort()).toEqual([...first.keys()].sort());
  const differing = [...first].filter(([path, bytes]) => !bytes.equals(second.get(path)!)).map(([path]) => path);
  expect(differing).toEqual([]);
}

/** Zip dates have a 2-second resolution: wait past it, then give every source a new date. */
async function touchSources() {
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  const now = new Date();
  for (const dir of ['functions', 'shared', 'infra']) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) utimesSync(join(entry.parentPath, entry.name), now, now);
    }
  }
}

it('synthesizes the stack and the function bundle', async () => {
  const outdir = mkdtempSync(join(tmpdir(), 'cdktf-out-'));
  const result = await npm({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', CDKTF_OUTDIR: outdir });
  expect(result.code, result.stderr).toBe(0);
  const stack = JSON.parse(readFileSync(join(outdir, 'stacks/cio-webhooks/cdk.tf.json'), 'utf8')) as { resource: Record<string, unknown> };
  expect(Object.keys(stack.resource)).toContain('google_cloudfunctions2_function');
  expect(existsSync(join(ROOT, 'build/bundle/functions/index.js'))).toBe(true);
  const bundlePackage = JSON.parse(readFileSync(join(ROOT, 'build/bundle/package.json'), 'utf8')) as { dependencies: Record<string, string> };
  expect(Object.keys(bundlePackage.dependencies)).not.toContain('cdktf');
  expect(Object.keys(bundlePackage.dependencies)).toContain('@google-cloud/functions-framework');
});

it('ships a lockfile that pins exactly the versions the tests ran against, and install scripts off', async () => {
  // The synth above built the bundle; build it again if this runs alone.
  if (!existsSync(join(ROOT, 'build/bundle/package-lock.json'))) await run('npm', ['run', '--silent', 'build'], { cwd: ROOT });
  const bundle = join(ROOT, 'build/bundle');
  const lock = JSON.parse(readFileSync(join(bundle, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dependencies?: Record<string, string> }> };
  const manifest = JSON.parse(readFileSync(join(bundle, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  expect(lock.packages['']!.dependencies).toEqual(manifest.dependencies);
  const entries = Object.entries(lock.packages).filter(([path]) => path !== '');
  expect(entries.length).toBeGreaterThan(50);
  // Every locked package is the one installed here, at the same place in the tree.
  for (const [path, entry] of entries) {
    const installed = JSON.parse(readFileSync(join(ROOT, path, 'package.json'), 'utf8')) as { version: string };
    expect(entry.version, path).toBe(installed.version);
  }
  for (const name of ['cdktf', 'vitest', '@cdktf/provider-google', 'typescript']) expect(lock.packages[`node_modules/${name}`], name).toBeUndefined();
  expect(readFileSync(join(bundle, '.npmrc'), 'utf8')).toBe('ignore-scripts=true\n');
  // npm itself agrees the lockfile is complete and in step with package.json (what `npm ci` checks).
  const dryRun = await run('npm', ['ci', '--dry-run', '--no-audit', '--no-fund'], { cwd: bundle });
  expect(dryRun.stdout).toMatch(new RegExp(`added ${entries.length} packages`));
});

it('writes the same bytes on every synth of one commit, whatever the clock, the time zone, the umask or the files\' dates', async () => {
  const env = { GOOGLE_CLOUD_PROJECT: 'acme-prod-1' };
  const firstDir = mkdtempSync(join(tmpdir(), 'cdktf-out-'));
  const first = await npm({ ...env, CDKTF_OUTDIR: firstDir, TZ: 'UTC' });
  expect(first.code, first.stderr).toBe(0);
  const firstOut = snapshot(firstDir);
  const firstBundle = snapshot(join(ROOT, 'build/bundle'));
  await touchSources();
  const secondDir = mkdtempSync(join(tmpdir(), 'cdktf-out-'));
  const second = await npm({ ...env, CDKTF_OUTDIR: secondDir, TZ: 'Pacific/Kiritimati' }, '077');
  expect(second.code, second.stderr).toBe(0);
  const secondOut = snapshot(secondDir);

  // The stack JSON, the manifest and the function-source zip: byte for byte.
  expect([...firstOut.keys()].some((path) => path.endsWith('.zip'))).toBe(true);
  expectSameBytes(firstOut, secondOut);
  // And what npm run build wrote: the compiled functions, the bundle's package.json and lockfile.
  expectSameBytes(firstBundle, snapshot(join(ROOT, 'build/bundle')));
  // No path of this checkout or of the output directory in what was written.
  const stackJson = secondOut.get('stacks/cio-webhooks/cdk.tf.json')!.toString();
  for (const path of [ROOT, firstDir, secondDir, tmpdir()]) expect(stackJson).not.toContain(path);
});

it('writes the same bytes with RECEIVER_ACCESS=no-invoker-check, whose step finds the project from the stack directory by a relative path', async () => {
  // Inside the checkout, as cdktf.out is by default: the local-exec runs in the stack directory.
  const parent = join(ROOT, '.local');
  mkdirSync(parent, { recursive: true });
  const dirs = [mkdtempSync(join(parent, 'synth-')), mkdtempSync(join(parent, 'synth-'))];
  try {
    const env = { GOOGLE_CLOUD_PROJECT: 'acme-prod-1', RECEIVER_ACCESS: 'no-invoker-check' };
    const first = await npm({ ...env, CDKTF_OUTDIR: dirs[0]!, TZ: 'UTC' });
    expect(first.code, first.stderr).toBe(0);
    await touchSources();
    const second = await npm({ ...env, CDKTF_OUTDIR: dirs[1]!, TZ: 'Pacific/Kiritimati' }, '077');
    expect(second.code, second.stderr).toBe(0);
    expectSameBytes(snapshot(dirs[0]!), snapshot(dirs[1]!));
    const stackJson = readFileSync(join(dirs[1]!, 'stacks/cio-webhooks/cdk.tf.json'), 'utf8');
    const stack = JSON.parse(stackJson) as { resource: { terraform_data: Record<string, { provisioner?: Array<{ 'local-exec': { working_dir: string } }> }> } };
    const step = Object.values(stack.resource.terraform_data).find((r) => r.provisioner)!;
    expect(step.provisioner![0]!['local-exec'].working_dir).toBe('../../../..');
    for (const path of [ROOT, ...dirs]) expect(stackJson).not.toContain(path);
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
});

it('stops with every configuration problem and a non-zero exit', async () => {
  const result = await npm({ GOOGLE_CLOUD_PROJECT: '', RETENTION_DAYS: '99', CDKTF_OUTDIR: mkdtempSync(join(tmpdir(), 'cdktf-out-')) });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('invalid stack configuration');
  expect(result.stderr).toContain('GOOGLE_CLOUD_PROJECT must be a Google Cloud project id');
  expect(result.stderr).toContain('RETENTION_DAYS must be a whole number from 1 to 31');
});
