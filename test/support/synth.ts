/** Synthesizes the stack into Terraform JSON for contract tests, with helpers to find resources in it. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { expect } from 'vitest';
import { loadStackConfig } from '../../infra/config.js';
import { PipelineStack } from '../../infra/stack.js';

export type Resource = Record<string, unknown> & { depends_on?: string[] };
export type Synth = {
  resource: Record<string, Record<string, Resource>>;
  output: Record<string, { value: string }>;
  terraform: Record<string, unknown>;
  provider: Record<string, unknown[]>;
};

const bundleDir = mkdtempSync(join(tmpdir(), 'bundle-'));
writeFileSync(join(bundleDir, 'package.json'), '{"name":"fake-bundle"}');

export const TEST_PROJECT_ID = 'acme-prod-1';

export function synth(env: Record<string, string> = {}): Synth {
  const config = loadStackConfig({ GOOGLE_CLOUD_PROJECT: TEST_PROJECT_ID, ...env }, () => undefined, bundleDir);
  const stack = new PipelineStack(Testing.app(), 'test-stack', config);
  return JSON.parse(Testing.synth(stack)) as Synth;
}

export const all = (s: Synth, type: string): Resource[] => Object.values(s.resource[type] ?? {});

export const one = (s: Synth, type: string, match: (r: Resource) => boolean): Resource => {
  const found = all(s, type).filter(match);
  expect(found, `${type} matching`).toHaveLength(1);
  return found[0]!;
};

export const named = (name: string) => (r: Resource) => r.name === name;

/** The Terraform address (`type.key`) of the one resource of `type` matching. */
export const refTo = (s: Synth, type: string, match: (r: Resource) => boolean): string => {
  const found = Object.entries(s.resource[type] ?? {}).filter(([, r]) => match(r));
  expect(found, `${type} to reference`).toHaveLength(1);
  return `${type}.${found[0]![0]}`;
};

/** Every resource with its address. */
export const addressed = (s: Synth): Array<[string, Resource]> =>
  Object.entries(s.resource).flatMap(([type, resources]) => Object.entries(resources).map(([key, r]) => [`${type}.${key}`, r] as [string, Resource]));

/** Addresses `address` waits for, directly or through what it waits for (depends_on and references). */
export function dependenciesOf(s: Synth, address: string): Set<string> {
  const byAddress = new Map(addressed(s));
  const seen = new Set<string>();
  const visit = (current: string) => {
    const resource = byAddress.get(current);
    if (!resource) return;
    const text = JSON.stringify(resource);
    const referenced = [...text.matchAll(/\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)[.}[]/g)].map((m) => m[1]!);
    for (const next of [...(resource.depends_on ?? []), ...referenced]) {
      if (seen.has(next)) continue;
      seen.add(next);
      visit(next);
    }
  };
  visit(address);
  return seen;
}
