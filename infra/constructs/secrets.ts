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
 * Secret Manager secrets the functions read as secret environment variables. Each starts with a
 * placeholder version so the first deploy succeeds; the functions recognise the placeholder and hold
 * events back (receiver 503, handler nack) until the operator adds the real value (README).
 */
export class Secrets extends Construct {
  readonly signingKeys: SecretManagerSecret;
  readonly siteId: SecretManagerSecret;
  readonly trackApiKey: SecretManagerSecret;

  constructor(scope: Construct, id: string, props: SecretsProps) {
    super(scope, id);
    const secret = (key: string, name: string) => {
      const created = new SecretManagerSecret(this, key, {
        project: props.project,
        secretId: `${props.prefix}-${name}`,
        replication: { auto: {} },
        dependsOn: props.dependsOn,
      });
      new SecretManagerSecretVersion(this, `${key}-placeholder`, {
        secret: created.id,
        secretData: SECRET_PLACEHOLDER,
        // Real values are added outside Terraform (never in state); keep the placeholder as it is.
        lifecycle: { ignoreChanges: ['secret_data', 'enabled'] },
      });
      return created;
    };
    this.signingKeys = secret('signing-keys', 'webhook-signing-keys');
    this.siteId = secret('site-id', 'track-site-id');
    this.trackApiKey = secret('track-api-key', 'track-api-key');
  }
}
