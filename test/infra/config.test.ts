import { describe, expect, it } from 'vitest';
import { StackConfigError, loadStackConfig } from '../../infra/config.js';

describe('loadStackConfig', () => {
  it('applies the defaults', () => {
    expect(loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1' })).toMatchObject({
      project: 'acme-prod-1', region: 'us-central1', prefix: 'cio', cioRegion: 'us', receiverMinInstances: 1,
      handlerMaxInstances: 2, handlerConcurrency: 5, retentionDays: 7, alertEmail: null, stateBucket: null,
      firestoreLocation: 'us-central1', policy: { actions: ['bounce', 'spam', 'unsubscribe', 'engagement'], suppressOn: [] },
    });
  });

  it('reads cdktf context when the environment is silent', () => {
    const context: Record<string, string> = { project: 'ctx-project', region: 'europe-west1', prefix: 'cx' };
    expect(loadStackConfig({}, (key) => context[key])).toMatchObject({ project: 'ctx-project', region: 'europe-west1', prefix: 'cx', firestoreLocation: 'europe-west1' });
  });

  it('reports every problem at once', () => {
    try {
      loadStackConfig({ PIPELINE_REGION: 'moon', RETENTION_DAYS: '90', CIO_SUPPRESS_ON: 'complained', ALERT_EMAIL: 'nope' });
      throw new Error('expected a StackConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(StackConfigError);
      expect((error as StackConfigError).problems).toEqual([
        'GOOGLE_CLOUD_PROJECT must be a Google Cloud project id (got "")',
        'PIPELINE_REGION must be a region such as us-central1 (got "moon")',
        'ALERT_EMAIL must be an email address',
        'RETENTION_DAYS must be a whole number from 1 to 31 (got "90")',
        'CIO_SUPPRESS_ON: unknown metric complained (got "complained")',
      ]);
    }
  });

  it('refuses handler sizing that could exceed the Customer.io request rate', () => {
    expect(() => loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', HANDLER_MAX_INSTANCES: '10', HANDLER_CONCURRENCY: '20' })).toThrow(
      /HANDLER_MAX_INSTANCES × HANDLER_CONCURRENCY = 200 calls in flight could reach 2000 req\/s, over CIO_MAX_REQUEST_RATE \(100\)/,
    );
  });
});
