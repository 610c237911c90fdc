/**
 * The real receiver process (the Functions Framework running the project's entry point) publishing
 * to a topic of its own on the test run's Pub/Sub emulator, with a probe that collects what it
 * publishes: what the tests against the receiver as deployed start with.
 */
import { PubSub } from '@google-cloud/pubsub';
import { startFunction, type FunctionProcess } from '../../scripts/local/function-process.js';
import { createTopicProbe, type TopicProbe } from './pubsub.js';

export interface ReceiverUnderTest {
  receiver: FunctionProcess;
  probe: TopicProbe;
  stop(): Promise<void>;
}

/** `topicPrefix` names the probe's topic; `env` is the receiver's own configuration (its keys, limits). */
export async function startReceiverProcess(topicPrefix: string, env: Record<string, string>): Promise<ReceiverUnderTest> {
  const pubsub = new PubSub({ projectId: process.env.GOOGLE_CLOUD_PROJECT });
  const probe = await createTopicProbe(pubsub, topicPrefix);
  const receiver = await startFunction({
    target: 'receiver',
    env: {
      GOOGLE_CLOUD_PROJECT: process.env.GOOGLE_CLOUD_PROJECT,
      PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST,
      PUBSUB_TOPIC: probe.topicName,
      ...env,
    },
  });
  return {
    receiver,
    probe,
    async stop() {
      await receiver.stop();
      await probe.close();
      await pubsub.close();
    },
  };
}
