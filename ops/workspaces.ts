/**
 * Which Customer.io workspaces the deployment an ops command points at serves, and which of them
 * `--workspace` chose. Locally the running stack says (`.local/stack.json`'s `workspaces`); deployed,
 * `CIO_WORKSPACES` in the operator's environment, as the deploy reads it (doctor reads the stack's
 * other variables the same way). Checked before anything is contacted: a workspace the deployment
 * does not have, or any workspace in a deployment with one, is wrong arguments (exit 2).
 */
import { CIO_REGIONS, WORKSPACE_NAME, WORKSPACES_VARIABLE, WorkspacesError, parseWorkspaces, type CioRegion, type Workspace } from '../shared/workspaces.js';
import { CommandFailed, UsageError, requireLocalStack } from './cli.js';
import { checkTargetFlags, type TargetFlags } from './target.js';
import type { WorkspaceScope } from './warehouse/reader.js';

/**
 * The workspaces a local stack.json records, read defensively: a file written before the stack knew
 * workspaces has no such field (one workspace); anything else that is not the list npm start writes
 * is refused with what is wrong rather than guessed at.
 */
export function localWorkspaces(stack: object, file = '.local/stack.json'): Workspace[] | null {
  const recorded = (stack as { workspaces?: unknown }).workspaces;
  if (recorded === undefined || recorded === null) return null;
  const bad = (why: string) => new CommandFailed(`${file}: its workspaces ${why}; restart npm start`);
  if (!Array.isArray(recorded)) throw bad('are not a list');
  const workspaces: Workspace[] = [];
  for (const entry of recorded as unknown[]) {
    const { name, region } = (entry ?? {}) as { name?: unknown; region?: unknown };
    if (typeof name !== 'string' || !WORKSPACE_NAME.test(name)) throw bad(`hold ${JSON.stringify(name)}, which is not a workspace name`);
    workspaces.push({ name, region: typeof region === 'string' && (CIO_REGIONS as readonly string[]).includes(region) ? (region as CioRegion) : 'us' });
  }
  return workspaces.length > 0 ? workspaces : null;
}

/** Where a local workspace's webhooks go and the dev key that signs them, as npm start records them; null if not recorded. */
export function localWorkspaceEndpoint(stack: object, name: string): { receiverUrl: string; signingKey: string } | null {
  const recorded = (stack as { workspaces?: unknown }).workspaces;
  const entry = Array.isArray(recorded) ? (recorded as unknown[]).find((w) => (w as { name?: unknown } | null)?.name === name) : undefined;
  const { receiverUrl, signingKey } = (entry ?? {}) as { receiverUrl?: unknown; signingKey?: unknown };
  return typeof receiverUrl === 'string' && typeof signingKey === 'string' && receiverUrl && signingKey ? { receiverUrl, signingKey } : null;
}

/** A deployed project's workspaces: CIO_WORKSPACES as the deploy reads it (CIO_REGION the default region). */
export function deployedWorkspaces(env: NodeJS.ProcessEnv): Workspace[] | null {
  const region = env.CIO_REGION?.trim() || 'us';
  try {
    return parseWorkspaces(env[WORKSPACES_VARIABLE], (CIO_REGIONS as readonly string[]).includes(region) ? (region as CioRegion) : 'us');
  } catch (error) {
    if (error instanceof WorkspacesError) throw new CommandFailed(`${WORKSPACES_VARIABLE}: ${error.message}`);
    throw error;
  }
}

/** The workspaces of the deployment the flags point at (--local: the running stack; else this environment). */
export function deploymentWorkspaces(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Workspace[] | null {
  checkTargetFlags(flags);
  return flags.local ? localWorkspaces(requireLocalStack()) : deployedWorkspaces(env);
}

/** `--workspace W` checked against the deployment's workspaces. */
export function chooseWorkspace(flag: string | undefined, workspaces: readonly Workspace[] | null, local: boolean): string | null {
  if (flag === undefined) return null;
  if (workspaces === null) {
    throw new UsageError(
      local
        ? `--workspace ${flag}: the local stack has one workspace (started without ${WORKSPACES_VARIABLE}); leave --workspace out`
        : `--workspace ${flag}: the deployment has one workspace (${WORKSPACES_VARIABLE} is not set here); leave --workspace out, or set ${WORKSPACES_VARIABLE} as you deploy with it`,
    );
  }
  if (!workspaces.some((w) => w.name === flag)) throw new UsageError(`--workspace ${JSON.stringify(flag)} is none of the deployment's workspaces: ${workspaces.map((w) => w.name).join(', ')}`);
  return flag;
}

/** What a warehouse question is about: every workspace, or the one --workspace names. */
export function workspaceScope(flags: TargetFlags & { workspace?: string }, env: NodeJS.ProcessEnv = process.env): WorkspaceScope {
  const workspaces = deploymentWorkspaces(flags, env);
  return { several: workspaces !== null, only: chooseWorkspace(flags.workspace, workspaces, Boolean(flags.local)) };
}

/** How a command's output names its scope: nothing with one workspace. */
export function scopeText(scope: WorkspaceScope): string {
  if (scope.only !== null) return ` of workspace ${scope.only}`;
  return scope.several ? ' of every workspace' : '';
}

export const WORKSPACE_OPTION = { workspace: { type: 'string' } } as const;

export const WORKSPACE_HELP = `  --workspace W        only workspace W's events (a deployment with several: CIO_WORKSPACES,
                       --local: the running stack's); without it, every workspace's`;
