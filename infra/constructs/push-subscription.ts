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
  topic: PubsubTopic;
  /** Warehouse rows re-published by `ops replay --from-warehouse`: they reach the handler only. */
  replayTopic: PubsubTopic;
  deadLetterTopic: PubsubTopic;
  handler: Cloudfunctions2Function;
  pushInvoker: ServiceAccount;
  policy: Policy;
  pubsubAgent: string;
}

/**
 * The push subscriptions that drive the handler: one from the events topic, one from the replay
 * topic. Their filter is rendered from the same policy the handler runs, so only actionable events
 * invoke it; a filter is immutable once created, so a policy change replaces them (Terraform plans
 * that). Replays and history use topic retention (see EventBus), not retained acknowledgements.
 */
export class HandlerPushSubscription extends Construct {
  readonly subscription: PubsubSubscription;
  readonly replaySubscription: PubsubSubscription;

  constructor(scope: Construct, id: string, props: PushSubscriptionProps) {
    super(scope, id);
    const { project, prefix, handler } = props;
    const names = pipelineNames(prefix);
    // The Pub/Sub service agent mints the OIDC tokens for the push invoker.
    const tokenCreator = new ServiceAccountIamMember(this, 'agent-token-creator', {
      serviceAccountId: props.pushInvoker.name,
      role: 'roles/iam.serviceAccountTokenCreator',
      member: props.pubsubAgent,
    });
    const push = (key: string, name: string, topic: PubsubTopic) =>
      new PubsubSubscription(this, key, {
        project,
        name,
        topic: topic.id,
        filter: renderPushFilter(props.policy),
        ackDeadlineSeconds: TIMING.pushAckDeadlineSeconds,
        pushConfig: {
          pushEndpoint: handler.serviceConfig.uri,
          oidcToken: { serviceAccountEmail: props.pushInvoker.email, audience: handler.serviceConfig.uri },
        },
        retryPolicy: { minimumBackoff: TIMING.retryMinimumBackoff, maximumBackoff: TIMING.retryMaximumBackoff },
        deadLetterPolicy: { deadLetterTopic: props.deadLetterTopic.id, maxDeliveryAttempts: TIMING.maxDeliveryAttempts },
        expirationPolicy: { ttl: '' },
        dependsOn: [tokenCreator],
      });
    this.subscription = push('subscription', names.pushSubscription, props.topic);
    this.replaySubscription = push('replay-subscription', names.replaySubscription, props.replayTopic);
  }
}
