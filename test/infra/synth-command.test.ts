/** `npm run synth` as a user runs it: offline, without cdktf-cli, writing the stack JSON and the bundle asset. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from '../../scripts/lib/function-process.js';

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

it('stops with every configuration problem and a non-zero exit', async () => {
  const result = await npm({ GOOGLE_CLOUD_PROJECT: '', RETENTION_DAYS: '99', CDKTF_OUTDIR: mkdtempSync(join(tmpdir(), 'cdktf-out-')) });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('invalid stack configuration');
  expect(result.stderr).toContain('GOOGLE_CLOUD_PROJECT must be a Google Cloud project id');
  expect(result.stderr).toContain('RETENTION_DAYS must be a whole number from 1 to 31');
});
