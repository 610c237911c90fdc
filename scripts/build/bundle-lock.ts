/**
 * The deployed bundle's package-lock.json: the project's own lockfile pruned to what the runtime
 * dependencies need. With it the buildpack runs `npm ci` and installs exactly the versions (and
 * integrity hashes) the tests ran against, instead of resolving every transitive package fresh on
 * each deploy.
 */

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  optional?: boolean;
  peer?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

export interface Lockfile {
  name?: string;
  version?: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

/**
 * Where Node would load `name` from, for the package installed at `from`: its own node_modules,
 * then each enclosing one, up to the top (npm's lockfile keys are those install paths).
 */
export function resolveInstallPath(packages: Record<string, LockEntry>, from: string, name: string): string | null {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (base === '') return null;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

/** The lockfile of a package with exactly `dependencies` (name → version), cut from `root`'s lockfile. */
export function pruneLockfile(root: Lockfile, manifest: { name: string; version: string; dependencies: Record<string, string> }): Lockfile {
  const needed = new Set<string>();
  const missing: string[] = [];
  const visit = (from: string, name: string, required: boolean) => {
    const path = resolveInstallPath(root.packages, from, name);
    if (path === null) {
      if (required) missing.push(`${name} (needed by ${from || 'the bundle'})`);
      return;
    }
    if (needed.has(path)) return;
    needed.add(path);
    const entry = root.packages[path]!;
    for (const dep of Object.keys(entry.dependencies ?? {})) visit(path, dep, true);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) visit(path, dep, false);
    for (const dep of Object.keys(entry.peerDependencies ?? {})) visit(path, dep, !entry.peerDependenciesMeta?.[dep]?.optional);
  };
  for (const name of Object.keys(manifest.dependencies)) visit('', name, true);
  if (missing.length > 0) throw new Error(`the project lockfile lacks ${missing.join(', ')}: run npm install`);

  const packages: Record<string, LockEntry> = {
    '': { name: manifest.name, version: manifest.version, dependencies: manifest.dependencies },
  };
  for (const path of [...needed].sort()) {
    // Runtime packages only: what was a dev dependency at the root is a regular one here.
    const { dev: _dev, ...entry } = root.packages[path]!;
    packages[path] = entry;
  }
  return { name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages };
}
