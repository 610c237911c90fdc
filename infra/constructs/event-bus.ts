import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription/index.js';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { pipelineNames } from '../names.js';

export interface EventBusProps {
  project: string;
  prefix: string;
  /** Topic retention for replay by seek, 1–31 days (Pub/Sub's maximum). */
  retentionDays: number;
  dependsOn?: ITerraformDependable[];
}

const days = (n: number) => `${n * 86_400}s`;

/**
 * The events topic, the dead-letter topic with a pull subscription operators inspect and redrive
 * from, and the replay topic `ops replay --from-warehouse` publishes to (it reaches the handler only).
 *
 * Retention is paid once, on the topics: topic retention keeps every message, acknowledged or not,
 * and lets any subscription of the topic seek back within it — even one created after the message.
 * `retain_acked_messages` on a subscription would store and bill a second copy, so none sets it.
 */
export class EventBus extends Construct {
  readonly topic: PubsubTopic;
  readonly deadLetterTopic: PubsubTopic;
  readonly deadLetterSubscription: PubsubSubscription;
  readonly replayTopic: PubsubTopic;

  constructor(scope: Construct, id: string, props: EventBusProps) {
    super(scope, id);
    const { project, prefix, retentionDays } = props;
    const names = pipelineNames(prefix);
    const topic = (key: string, name: string, retention: string | undefined) =>
      new PubsubTopic(this, key, { project, name, messageRetentionDuration: retention, dependsOn: props.dependsOn });
    this.topic = topic('events', names.topic, days(retentionDays));
    this.deadLetterTopic = topic('dead-letter', names.deadLetterTopic, days(retentionDays));
    // Replays are re-published from the warehouse on demand; there is nothing to keep.
    this.replayTopic = topic('replay', names.replayTopic, undefined);
    this.deadLetterSubscription = new PubsubSubscription(this, 'dead-letter-subscription', {
      project,
      name: names.deadLetterSubscription,
      topic: this.deadLetterTopic.id,
      ackDeadlineSeconds: 60,
      // Unacknowledged dead letters stay 7 days here (the default); the topic keeps them for
      // retentionDays, so a subscription that lost one can still seek back to it.
      expirationPolicy: { ttl: '' },
    });
  }
}
