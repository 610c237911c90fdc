import { Bytes } from '@cdktf/provider-random/lib/bytes/index.js';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret/index.js';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { SECRET_PLACEHOLDER } from '../../shared/config.js';

export interface SecretsProps {
  project: string;
  prefix: string;
  dependsOn?: ITerraformDependable[];
}

/**
 * Secret Manager secrets the functions read as secret environment variables. The three Customer.io
 * secrets start with a placeholder version so the first deploy succeeds; the functions recognise the
 * placeholder and hold events back (receiver 503, handler nack) until the operator adds the real
 * value (docs/deploy.md). The pseudonym key is generated here: 32 random bytes that key the hash standing
 * for email addresses in the handler's logs and the analysts' views.
 */
export class Secrets extends Construct {
  readonly signingKeys: SecretManagerSecret;
  readonly siteId: SecretManagerSecret;
  readonly trackApiKey: SecretManagerSecret;
  readonly pseudonymKey: SecretManagerSecret;
  /** The one version of the pseudonym key: the handler reads this version number, never `latest`. */
  readonly pseudonymKeyVersion: SecretManagerSecretVersion;
  /** The key as hex, for the private object the warehouse loads it from — never for SQL. */
  readonly pseudonymKeyHex: string;

  constructor(scope: Construct, id: string, props: SecretsProps) {
    super(scope, id);
    const secret = (key: string, name: string) =>
      new SecretManagerSecret(this, key, {
        project: props.project,
        secretId: `${props.prefix}-${name}`,
        replication: { auto: {} },
        dependsOn: props.dependsOn,
      });
    const placeholder = (key: string, name: string) => {
      const created = secret(key, name);
      new SecretManagerSecretVersion(this, `${key}-placeholder`, {
        secret: created.id,
        secretData: SECRET_PLACEHOLDER,
        // Real values are added outside Terraform (never in state); keep the placeholder as it is.
        lifecycle: { ignoreChanges: ['secret_data', 'enabled'] },
      });
      return created;
    };
    this.signingKeys = placeholder('signing-keys', 'webhook-signing-keys');
    this.siteId = placeholder('site-id', 'track-site-id');
    this.trackApiKey = placeholder('track-api-key', 'track-api-key');

    // One address, so rotation is one command: terraform apply -replace=random_bytes.pseudonym_key
    // (docs/privacy.md). It replaces this version, which the handler is pinned to, and reloads the
    // warehouse's key table from the same bytes, in one apply. (The address changed once, on purpose:
    // the key before it had been written into a view's SQL, so every deployment makes a new one.)
    const keyBytes = new Bytes(this, 'pseudonym-key-bytes', { length: 32 });
    keyBytes.overrideLogicalId(PSEUDONYM_KEY_ADDRESS.split('.')[1]!);
    this.pseudonymKeyHex = keyBytes.hex;
    this.pseudonymKey = secret('pseudonym-key', 'pseudonym-key');
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
