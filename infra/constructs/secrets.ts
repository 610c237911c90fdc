import { Bytes } from '@cdktf/provider-random/lib/bytes/index.js';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret/index.js';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { Workspace } from '../../shared/workspaces.js';
import { workspaceSecretIds } from '../names.js';

export interface SecretsProps {
  project: string;
  prefix: string;
  /** CIO_WORKSPACES: three secrets per workspace; null: today's three. */
  workspaces: Workspace[] | null;
  /** DELETION_PROTECTION: Terraform refuses to destroy the operator-filled secrets. */
  deletionProtection: boolean;
  dependsOn?: ITerraformDependable[];
}

/** The three operator-filled secrets of one Customer.io workspace. */
export interface WorkspaceSecrets {
  /** null in the single-workspace mode. */
  workspace: Workspace | null;
  signingKeys: SecretManagerSecret;
  siteId: SecretManagerSecret;
  trackApiKey: SecretManagerSecret;
}

/**
 * Where a workspace's resources sit in a construct: a scope of its own, `workspace-<name>`, so their
 * Terraform addresses are derived from the workspace's name alone and adding a workspace changes no
 * other's; with one workspace (null), the construct itself, where they always were.
 */
export function workspaceScope(scope: Construct, workspace: Workspace | null): Construct {
  if (workspace === null) return scope;
  const id = `workspace-${workspace.name}`;
  return (scope.node.tryFindChild(id) as Construct | undefined) ?? new Construct(scope, id);
}

/**
 * Secret Manager secrets. The three Customer.io secrets (signing keys, Track site id, Track API key;
 * three per workspace with CIO_WORKSPACES) are created without any version: their values are the operator's, added with gcloud or the
 * console, and the functions read the newest version at run time (functions/refreshing-secret.ts),
 * so no deploy waits for a version and no add, disable or destroy of one is something Terraform
 * knows about, undoes or replaces. While a secret has no usable version the functions hold events
 * back (receiver 503, handler nack). The pseudonym key is generated here: 32 random bytes that key
 * the hash standing for email addresses in the handler's logs and the analysts' views.
 */
export class Secrets extends Construct {
  /** One entry per workspace, in CIO_WORKSPACES' order; one entry (workspace null) with one workspace. */
  readonly workspaces: WorkspaceSecrets[];
  readonly pseudonymKey: SecretManagerSecret;
  /** The one version of the pseudonym key: the handler reads this version number, never `latest`. */
  readonly pseudonymKeyVersion: SecretManagerSecretVersion;
  /** The key as hex, for the private object the warehouse loads it from — never for SQL. */
  readonly pseudonymKeyHex: string;

  constructor(scope: Construct, id: string, props: SecretsProps) {
    super(scope, id);
    const secret = (key: string, secretId: string, scope: Construct = this, deletionProtection = false) =>
      new SecretManagerSecret(scope, key, {
        project: props.project,
        secretId,
        replication: { auto: {} },
        // The values are the operator's and Terraform cannot make them again: like the table and
        // the dedupe database, an apply that would destroy one (a workspace dropped from
        // CIO_WORKSPACES, a name mistyped) fails instead. Client-side only, so setting it on a
        // deployed secret is an in-place change (secret_manager_secret.html.markdown at v6.50.0).
        ...(deletionProtection ? { deletionProtection: true } : {}),
        dependsOn: props.dependsOn,
      });
    // With one workspace, today's secrets at today's addresses (an upgrade renames nothing); with
    // several, each workspace's under its own scope and names.
    this.workspaces = (props.workspaces ?? [null]).map((workspace) => {
      const ids = workspaceSecretIds(props.prefix, workspace?.name ?? null);
      const scope = workspaceScope(this, workspace);
      return {
        workspace,
        signingKeys: secret('signing-keys', ids.signingKeys, scope, props.deletionProtection),
        siteId: secret('site-id', ids.siteId, scope, props.deletionProtection),
        trackApiKey: secret('track-api-key', ids.trackApiKey, scope, props.deletionProtection),
      };
    });

    // One address, so rotation is one command: terraform apply -replace=random_bytes.pseudonym_key
    // (docs/privacy.md). It replaces this version, which the handler is pinned to, and reloads the
    // warehouse's key table from the same bytes, in one apply. (The address changed once, on purpose:
    // the key before it had been written into a view's SQL, so every deployment makes a new one.)
    const keyBytes = new Bytes(this, 'pseudonym-key-bytes', { length: 32 });
    keyBytes.overrideLogicalId(PSEUDONYM_KEY_ADDRESS.split('.')[1]!);
    this.pseudonymKeyHex = keyBytes.hex;
    this.pseudonymKey = secret('pseudonym-key', `${props.prefix}-pseudonym-key`);
    // No ignore_changes: the version holds Terraform's bytes. A `versions add` outside Terraform
    // changes nothing (the handler reads this version's number); a disable is undone by the next
    // apply; a destroyed version is recreated from the same bytes, so the hashes stay the same.
    // The new version exists before the old one goes, so no handler instance starts without one.
    this.pseudonymKeyVersion = new SecretManagerSecretVersion(this, 'pseudonym-key-version', {
      secret: this.pseudonymKey.id,
      secretData: keyBytes.hex,
      lifecycle: { createBeforeDestroy: true },
    });
  }
}

/** The Terraform address of the generated pseudonym key: what `-replace` names to rotate it. */
export const PSEUDONYM_KEY_ADDRESS = 'random_bytes.pseudonym_key';
