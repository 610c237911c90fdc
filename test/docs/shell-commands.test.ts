/**
 * Every shell block in the README and docs/ runs as written. Each page's blocks run in order in one
 * `bash -euo pipefail`, after the exports that start the deploy procedure (docs/deploy.md, "Before
 * the first deploy") and nothing else from the environment: a variable no earlier block sets fails
 * the run (`set -u`). The tools the commands call are stand-ins that check what the real ones would
 * refuse or silently get wrong: gcloud without --project (gcloud ignores GOOGLE_CLOUD_PROJECT) or a
 * region where one is needed, a secret, service or Terraform output the stack does not make, an npm
 * script that does not exist, an ops or send command or flag the CLI does not take (it runs with
 * --help appended, so the real argument parser judges), another CDKTF CLI version than the one
 * pinned. Any command without a stand-in fails as not found: nothing reaches the network.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STACK_NAME } from '../../infra/names.js';
import { ROOT } from '../../scripts/local/function-process.js';
import { docPages, fencedBlocks, isShell } from '../support/docs.js';
import { addressed, all, synth } from '../support/synth.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; devDependencies: Record<string, string> };

/**
 * What the stand-ins check against: the stack's real names and the project's real scripts. A page
 * that exports CIO_WORKSPACES (the several-workspaces procedure) is checked against the stack that
 * setting synthesizes: its secrets, its outputs.
 */
const factsFor = (stack: ReturnType<typeof synth>) => ({
  root: ROOT,
  node: process.execPath,
  stackDir: `cdktf.out/stacks/${STACK_NAME}`,
  outputs: Object.keys(stack.output),
  secrets: all(stack, 'google_secret_manager_secret').map((r) => String(r.secret_id)),
  services: all(stack, 'google_cloudfunctions2_function').map((r) => String(r.name)),
  scripts: Object.keys(pkg.scripts),
  cdktf: pkg.devDependencies.cdktf!.replace(/^[\^~]/, ''),
  addresses: addressed(stack).map(([address]) => address),
  entries: { ops: 'ops/main.ts', send: 'scripts/send.ts' } as Record<string, string>,
});
type Facts = ReturnType<typeof factsFor>;
const facts = factsFor(synth());

/** The CIO_WORKSPACES a page's shell blocks export, if any. */
function exportedWorkspaces(text: string): string | null {
  return /^\s*export CIO_WORKSPACES=["']?([^"'\s#]+)/m.exec(text)?.[1] ?? null;
}

/** The stand-ins, one Node script each; they read `facts` from STUB_FACTS. */
const STUBS: Record<string, string> = {
  gcloud: `
const flag = (name) => { for (let i = 0; i < args.length; i++) { if (args[i] === '--' + name) return args[i + 1]; if (args[i].startsWith('--' + name + '=')) return args[i].slice(name.length + 3); } };
if (['auth', 'components', 'config', 'version', 'info'].includes(args[0])) process.exit(0);
if (!flag('project')) fail('no --project: gcloud ignores GOOGLE_CLOUD_PROJECT and would use its own default project');
const positional = args.filter((a, i) => !a.startsWith('--') && !(args[i - 1] || '').match(/^--(project|region|data-file|update-env-vars|format)$/));
if (args[0] === 'run' || args[0] === 'functions') {
  if (!flag('region')) fail('no --region');
  const service = positional[args[0] === 'run' ? 3 : 2];
  if (!facts.services.includes(service)) fail('no service ' + service + ' in the stack (' + facts.services.join(', ') + ')');
}
if (args[0] === 'secrets' && args[1] === 'versions' && args[2] === 'add') {
  if (!facts.secrets.includes(positional[3])) fail('no secret ' + positional[3] + ' in the stack (' + facts.secrets.join(', ') + ')');
  if (flag('data-file') !== '-') fail('expected --data-file=- (the value on stdin, not in the shell history)');
  if (require('node:fs').readFileSync(0, 'utf8') === '') fail('empty secret value on stdin');
}`,
  terraform: `
if (args[0] !== '-chdir=' + facts.stackDir) fail('expected -chdir=' + facts.stackDir + ' first');
if (!['init', 'plan', 'apply', 'destroy', 'import', 'output', 'state', 'show'].includes(args[1])) fail('unexpected subcommand');
for (const arg of args) if (arg.startsWith('-replace=') && !facts.addresses.includes(arg.slice(9))) fail('no resource ' + arg.slice(9) + ' in the stack to replace');
if (args[1] === 'output') {
  const name = args[args.length - 1];
  if (!facts.outputs.includes(name)) fail('no output ' + name + ' (' + facts.outputs.join(', ') + ')');
  process.stdout.write('https://' + name.replaceAll('_', '-') + '.example.invalid/');
}`,
  npx: `
const match = /^cdktf-cli@(.+)$/.exec(args[1] || '');
if (args[0] !== '-p' || !match || args[2] !== 'cdktf') fail('only npx -p cdktf-cli@VERSION cdktf … is expected');
if (match[1] !== facts.cdktf) fail('cdktf-cli ' + match[1] + ' is not the pinned cdktf ' + facts.cdktf);
if (!['deploy', 'destroy', 'synth', 'diff'].includes(args[3])) fail('unexpected cdktf command');`,
  npm: `
if (['ci', 'install'].includes(args[0])) process.exit(0);
const script = args[0] === 'run' ? args[1] : args[0];
if (!facts.scripts.includes(script)) fail('no npm script ' + script);
const rest = args.slice(args[0] === 'run' ? 2 : 1).filter((a, i) => !(i === 0 && a === '--'));
const entry = facts.entries[script];
if (entry) {
  const run = require('node:child_process').spawnSync(facts.node, ['--import', 'tsx', entry, ...rest, '--help'], { cwd: facts.root, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, METADATA_SERVER_DETECTION: 'none' } });
  if (run.status !== 0) fail('the CLI refuses these arguments: ' + (run.stderr || run.stdout).trim());
}`,
  bq: `
const flag = (name) => { for (let i = 0; i < args.length; i++) { if (args[i] === '--' + name) return args[i + 1]; if (args[i].startsWith('--' + name + '=')) return args[i].slice(name.length + 3); } };
if (!flag('project_id')) fail('no --project_id: bq would use its own default project');
if (args.includes('query') && flag('use_legacy_sql') !== 'false') fail('expected --use_legacy_sql=false');`,
};

/** Harmless real commands the docs may use. */
const SAFE_COMMANDS = ['date', 'cat'];

function toolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'doc-tools-'));
  for (const [name, body] of Object.entries(STUBS)) {
    const file = join(dir, name);
    writeFileSync(file, `#!${process.execPath}\nconst args = process.argv.slice(2);\nconst facts = JSON.parse(process.env.STUB_FACTS);\nconst fail = (m) => { process.stderr.write('${name} ' + args.join(' ') + ': ' + m + '\\n'); process.exit(1); };\n${body}\n`);
    chmodSync(file, 0o755);
  }
  for (const name of SAFE_COMMANDS) {
    const real = ['/usr/bin', '/bin'].map((d) => join(d, name)).find((p) => spawnSync('test', ['-x', p]).status === 0);
    if (real) symlinkSync(real, join(dir, name));
  }
  return dir;
}

/** The exports the deploy procedure starts with: every page may rely on them, and on nothing else. */
function documentedExports(): string {
  const deploy = docPages().find((p) => p.path === 'docs/deploy.md')!;
  const first = fencedBlocks(deploy.text).find(isShell)!;
  const exports = first.body.split('\n').filter((line) => /^export [A-Z_]+=/.test(line));
  expect(exports.length, 'the first shell block of docs/deploy.md exports the variables the docs use').toBeGreaterThan(0);
  return exports.join('\n');
}

function runPage(script: string, pageFacts: Facts = facts): { status: number | null; stderr: string } {
  const home = mkdtempSync(join(tmpdir(), 'doc-home-'));
  mkdirSync(join(home, '.config'), { recursive: true });
  const run = spawnSync('/bin/bash', ['--noprofile', '--norc', '-euo', 'pipefail', '-c', script], {
    cwd: ROOT,
    encoding: 'utf8',
    // Answers for every `read` (secret values typed at a prompt).
    input: 'value-typed-at-the-prompt\n'.repeat(20),
    env: { PATH: tools, HOME: home, STUB_FACTS: JSON.stringify(pageFacts) },
    timeout: 120_000,
  });
  return { status: run.status, stderr: run.stderr };
}

const tools = toolDir();
const pages = docPages().filter((page) => fencedBlocks(page.text).some(isShell));

describe('the shell commands in the docs', () => {
  it('are found on the pages that show commands', () => {
    expect(pages.map((p) => p.path)).toEqual(expect.arrayContaining(['README.md', 'docs/deploy.md', 'docs/development.md']));
  });

  it.each(pages.map((p) => [p.path, p] as const))('%s runs as written after the documented exports', (_path, page) => {
    const blocks = fencedBlocks(page.text).filter(isShell);
    const script = [documentedExports(), ...blocks.map((b) => `# line ${b.line}\n${b.body}`)].join('\n');
    const workspaces = exportedWorkspaces(blocks.map((b) => b.body).join('\n'));
    const { status, stderr } = runPage(script, workspaces === null ? facts : factsFor(synth({ CIO_WORKSPACES: workspaces })));
    expect(stderr, `${page.path}: ${stderr}`).not.toMatch(/unbound variable|command not found/);
    expect(status, `${page.path} failed: ${stderr}`).toBe(0);
  });

  it('a stand-in refuses what the real tool would get wrong', () => {
    // The checks themselves: the commands of the old README that failed as written.
    expect(runPage('gcloud secrets versions add cio-track-site-id --data-file=- <<< x').stderr).toMatch(/no --project/);
    expect(runPage('export GOOGLE_CLOUD_PROJECT=p\ngcloud run services update cio-receiver --project "$GOOGLE_CLOUD_PROJECT" --region "$PIPELINE_REGION"').stderr).toMatch(/unbound variable/);
    expect(runPage('gcloud secrets versions add cio-nope --project p --data-file=- <<< x').stderr).toMatch(/no secret cio-nope/);
    expect(runPage('npm run ops -- stats --no-such-flag').stderr).toMatch(/refuses these arguments/);
    expect(runPage('terraform -chdir=cdktf.out/stacks/cio-webhooks output -raw no_such_output').stderr).toMatch(/no output/);
    expect(runPage('terraform -chdir=cdktf.out/stacks/cio-webhooks apply -replace=random_bytes.no_such_key').stderr).toMatch(/no resource random_bytes.no_such_key/);
    expect(runPage('curl https://example.com').status).not.toBe(0);
    // A workspace's secret exists only in the stack of a CIO_WORKSPACES that names the workspace.
    const acme = factsFor(synth({ CIO_WORKSPACES: 'acme' }));
    expect(runPage('gcloud secrets versions add cio-acme-webhook-signing-keys --project p --data-file=- <<< x').stderr).toMatch(/no secret cio-acme-webhook-signing-keys/);
    expect(runPage('gcloud secrets versions add cio-acme-webhook-signing-keys --project p --data-file=- <<< x', acme).status).toBe(0);
    expect(runPage('gcloud secrets versions add cio-beta-webhook-signing-keys --project p --data-file=- <<< x', acme).stderr).toMatch(/no secret cio-beta/);
    expect(runPage('terraform -chdir=cdktf.out/stacks/cio-webhooks output workspace_urls', acme).status).toBe(0);
    expect(runPage('terraform -chdir=cdktf.out/stacks/cio-webhooks output workspace_urls').stderr).toMatch(/no output workspace_urls/);
    expect(exportedWorkspaces('```sh\nexport CIO_WORKSPACES=acme,beta:eu   # two\n```')).toBe('acme,beta:eu');
  });
});
