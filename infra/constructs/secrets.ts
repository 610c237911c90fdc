import { Bytes } from '@cdktf/provider-random/lib/bytes/index.js';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret/index.js';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';

export interface SecretsProps {
  project: string;
  prefix: string;
  dependsOn?: ITerraformDependable[];
}

/**
 * Secret Manager secrets. The three Customer.io secrets (signing keys, Track site id, Track API key)
 * are created without any version: their values are the operator's, added with gcloud or the
 * console, and the functions read the newest version at run time (functions/refreshing-secret.ts),
 * so no deploy waits for a version and no add, disable or destroy of one is something Terraform
 * knows about, undoes or replaces. While a secret has no usable version the functions hold events
 * back (receiver 503, handler nack). The pseudonym key is generated here: 32 random bytes that key
 * the hash standing for email addresses in the handler's logs and the analysts' views.
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
    this.signingKeys = secret('signing-keys', 'webhook-signing-keys');
    this.siteId = secret('site-id', 'track-site-id');
    this.trackApiKey = secret('track-api-key', 'track-api-key');

    // Rotating it (terraform apply -replace on this resource) changes every hash in the views and
    // the logs from then on: old and new hashes of one address no longer match.
    const keyBytes = new Bytes(this, 'pseudonym-key-bytes', { length: 32 });
    this.pseudonymKeyHex = keyBytes.hex;
    this.pseudonymKey = secret('pseudonym-key', 'pseudonym-key');
    new SecretManagerSecretVersion(this, 'pseudonym-key-version', { secret: this.pseudonymKey.id, secretData: keyBytes.hex });
  }
}
