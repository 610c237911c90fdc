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
  /** The key as hex, for the warehouse's SQL (sensitive: Terraform redacts it in plans). */
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

    // Rotating it (terraform apply -replace on this resource) changes every hash in the views and
    // the logs from then on: old and new hashes of one address no longer match.
    const keyBytes = new Bytes(this, 'pseudonym-key-bytes', { length: 32 });
    this.pseudonymKeyHex = keyBytes.hex;
    this.pseudonymKey = secret('pseudonym-key', 'pseudonym-key');
    new SecretManagerSecretVersion(this, 'pseudonym-key-version', { secret: this.pseudonymKey.id, secretData: keyBytes.hex });
  }
}
