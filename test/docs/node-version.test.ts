/**
 * The one thing the docs say about Node: install with Node.js 20 or newer; every npm script then
 * runs on the Node 22 that `npm ci` put into node_modules (Cloud Run's runtime is nodejs22, and the
 * current Google Cloud libraries need it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local/function-process.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };

describe('Node versions', () => {
  it('npm test runs on the Node 22 that npm ci installs, whatever the system Node', () => {
    expect(pkg.devDependencies.node).toMatch(/^\^?22\./);
    expect(process.versions.node.split('.')[0]).toBe('22');
  });

  it('the install needs Node 20 or newer, and the README and package.json say so alike', () => {
    expect(pkg.engines.node).toBe('>=20');
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('Needs Node.js 20 or newer with npm');
  });

  it('the install does not print the dependencies\' engine warnings (they do not run on the system Node)', () => {
    expect(readFileSync(join(ROOT, '.npmrc'), 'utf8')).toMatch(/^loglevel=error$/m);
  });
});
