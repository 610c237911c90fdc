import type { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function/index.js';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription/index.js';
import type { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic/index.js';
import type { ServiceAccount } from '@cdktf/provider-google/lib/service-account/index.js';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member/index.js';
import { Construct } from 'constructs';
import { renderPushFilter, type Policy } from '../../shared/policy.js';
import { pipelineNames } from '../names.js';
import { TIMING } from '../timing.js';

export interface PushSubscriptionProps {
  project: string;
  prefix: string;
  retentionDays: number;
  topic: PubsubTopic;
  deadLetterTopic: PubsubTopic;
  handler: Cloudfunctions2Function;
  pushInvoker: ServiceAccount;
  policy: Policy;
  pubsubServiceAgent: string;
}

/**
 * The push subscription that drives the handler. Its filter is rendered from the same policy the
 * handler runs, so only actionable events invoke it; a filter is immutable once created, so a
 * policy change replaces the subscription (Terraform plans that).
 */
export class HandlerPushSubscription extends Construct {
  readonly subscription: PubsubSubscription;

  constructor(scope: Construct, id: string, props: PushSubscriptionProps) {
    super(scope, id);
    const { project, prefix, handler } = props;
    // The Pub/Sub service agent mints the OIDC tokens for the push invoker.
    const tokenCreator = new ServiceAccountIamMember(this, 'agent-token-creator', {
      serviceAccountId: props.pushInvoker.name,
      role: 'roles/iam.serviceAccountTokenCreator',
      member: props.pubsubServiceAgent,
    });
    this.subscription = new PubsubSubscription(this, 'subscription', {
      project,
      name: pipelineNames(prefix).pushSubscription,
      topic: props.topic.id,
      filter: renderPushFilter(props.policy),
      ackDeadlineSeconds: TIMING.pushAckDeadlineSeconds,
      pushConfig: {
        pushEndpoint: handler.serviceConfig.uri,
        oidcToken: { serviceAccountEmail: props.pushInvoker.email, audience: handler.serviceConfig.uri },
      },
      retryPolicy: { minimumBackoff: TIMING.retryMinimumBackoff, maximumBackoff: TIMING.retryMaximumBackoff },
      deadLetterPolicy: { deadLetterTopic: props.deadLetterTopic.id, maxDeliveryAttempts: TIMING.maxDeliveryAttempts },
      // Operators replay with seek; acked messages must still be there to seek back to.
      retainAckedMessages: true,
      messageRetentionDuration: `${Math.min(7, props.retentionDays) * 86_400}s`,
      expirationPolicy: { ttl: '' },
      dependsOn: [tokenCreator],
    });
  }
}
