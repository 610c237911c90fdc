import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription/index.js';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic/index.js';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { pipelineNames } from '../names.js';

export interface EventBusProps {
  project: string;
  prefix: string;
  retentionDays: number;
  dependsOn?: ITerraformDependable[];
}

const days = (n: number) => `${n * 86_400}s`;

/**
 * The events topic (kept `retentionDays` for seek-based replay) and the dead-letter topic with a
 * pull subscription operators inspect and redrive from.
 */
export class EventBus extends Construct {
  readonly topic: PubsubTopic;
  readonly deadLetterTopic: PubsubTopic;
  readonly deadLetterSubscription: PubsubSubscription;

  constructor(scope: Construct, id: string, props: EventBusProps) {
    super(scope, id);
    const { project, prefix, retentionDays } = props;
    const names = pipelineNames(prefix);
    this.topic = new PubsubTopic(this, 'events', {
      project,
      name: names.topic,
      messageRetentionDuration: days(retentionDays),
      dependsOn: props.dependsOn,
    });
    this.deadLetterTopic = new PubsubTopic(this, 'dead-letter', {
      project,
      name: names.deadLetterTopic,
      messageRetentionDuration: days(retentionDays),
      dependsOn: props.dependsOn,
    });
    this.deadLetterSubscription = new PubsubSubscription(this, 'dead-letter-subscription', {
      project,
      name: names.deadLetterSubscription,
      topic: this.deadLetterTopic.id,
      ackDeadlineSeconds: 60,
      // A subscription keeps at most 7 days; dead letters must outlive a long weekend.
      messageRetentionDuration: days(Math.min(7, retentionDays)),
      retainAckedMessages: true,
      expirationPolicy: { ttl: '' },
    });
  }
}
