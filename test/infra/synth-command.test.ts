/** `npm run synth` as a user runs it: offline, without cdktf-cli, writing the stack JSON and the bundle asset. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from '../../scripts/local/function-process.js';

const run = promisify(execFile);
const npm = (env: Record<string, string>) =>
  run('npm', ['run', '--silent', 'synth'], { cwd: ROOT, env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

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

it('stops with every configuration problem and a non-zero exit', async () => {
  const result = await npm({ GOOGLE_CLOUD_PROJECT: '', RETENTION_DAYS: '99', CDKTF_OUTDIR: mkdtempSync(join(tmpdir(), 'cdktf-out-')) });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('invalid stack configuration');
  expect(result.stderr).toContain('GOOGLE_CLOUD_PROJECT must be a Google Cloud project id');
  expect(result.stderr).toContain('RETENTION_DAYS must be a whole number from 1 to 31');
});
