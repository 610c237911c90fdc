/**
 * `npm run build`: the deployable function bundle in build/bundle — the compiled functions/ and
 * shared/, a package.json with only the runtime dependencies, pinned to the versions the tests ran
 * against (no cdktf, no dev tooling), the project's lockfile pruned to those dependencies (so the
 * buildpack's `npm ci` installs exactly what was tested, transitive packages included), and an
 * .npmrc that turns install scripts off (no runtime dependency needs one: protobufjs's only checks
 * a version scheme and prints a warning).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../local/function-process.js';
import { pruneLockfile, type Lockfile } from './bundle-lock.js';

const OUT = join(ROOT, 'build/bundle');

interface PackageJson {
  name: string;
  version: string;
  dependencies: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

rmSync(OUT, { recursive: true, force: true });
execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });

const root = readJson<PackageJson>(join(ROOT, 'package.json'));
// Only the packages the compiled code imports (the ops CLI's BigQuery client stays out).
const compiled = readdirSync(OUT, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.js'))
  .map((file) => readFileSync(join(OUT, file), 'utf8'))
  .join('\n');
const imported = Object.keys(root.dependencies).filter((name) => compiled.includes(`from '${name}'`) || compiled.includes(`from "${name}"`));
const dependencies = Object.fromEntries(
  imported.sort().map((name) => [name, readJson<PackageJson>(join(ROOT, 'node_modules', name, 'package.json')).version]),
);
const bundlePackage = {
  name: `${root.name}-functions`,
  version: root.version,
  private: true,
  type: 'module',
  main: 'functions/index.js',
  engines: { node: '>=22' },
  dependencies,
};
writeFileSync(join(OUT, 'package.json'), `${JSON.stringify(bundlePackage, null, 2)}\n`);
const lock = pruneLockfile(readJson<Lockfile>(join(ROOT, 'package-lock.json')), bundlePackage);
writeFileSync(join(OUT, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
writeFileSync(join(OUT, '.npmrc'), 'ignore-scripts=true\n');
process.stdout.write(`bundle written to ${relative(process.cwd(), OUT) || '.'} (${Object.keys(dependencies).length} runtime dependencies, ${Object.keys(lock.packages).length - 1} packages locked)\n`);
