/**
 * How the ops CLI says what Google's client libraries throw, on errors shaped as google-gax,
 * grpc-js, @google-cloud/common (BigQuery), gaxios and google-auth-library build them.
 */
import { describe, expect, it } from 'vitest';
import { describeFailure, CommandFailed, UsageError } from '../../ops/cli.js';
import { credentialsFailure, googleFailure } from '../../ops/google-errors.js';

/** A gRPC status as google-gax's GoogleError carries it. */
const grpc = (code: number, name: string, details: string) => Object.assign(new Error(`${code} ${name}: ${details}`), { code, details, metadata: {} });

describe('googleFailure', () => {
  it.each([
    [grpc(7, 'PERMISSION_DENIED', 'User not authorized to perform this action.'), 'permission denied (7 PERMISSION_DENIED: User not authorized to perform this action.): docs/operations.md lists the roles each ops command needs'],
    // An API not enabled yet (before the first deploy): which one, and how to enable it.
    [grpc(7, 'PERMISSION_DENIED', 'Cloud Pub/Sub API has not been used in project 123456789012 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/pubsub.googleapis.com/overview?project=123456789012 then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.'),
      'the pubsub.googleapis.com API is not enabled in project 123456789012: the deploy enables it, or now: gcloud services enable pubsub.googleapis.com --project 123456789012'],
    [Object.assign(new Error('BigQuery API has not been used in project acme-prod-1 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/bigquery.googleapis.com/overview?project=acme-prod-1 then retry.'), { code: 403, errors: [{ reason: 'accessDenied', message: 'BigQuery API has not been used in project acme-prod-1 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/bigquery.googleapis.com/overview?project=acme-prod-1 then retry.' }] }),
      'the bigquery.googleapis.com API is not enabled in project acme-prod-1: the deploy enables it, or now: gcloud services enable bigquery.googleapis.com --project acme-prod-1'],
    // google-gax parses the ErrorInfo itself: the line comes from it, whatever the message says.
    [Object.assign(grpc(7, 'PERMISSION_DENIED', 'Permission denied.'), { reason: 'SERVICE_DISABLED', domain: 'googleapis.com', errorInfoMetadata: { service: 'firestore.googleapis.com', consumer: 'projects/123456789012', containerInfo: 'acme-prod-1' } }),
      'the firestore.googleapis.com API is not enabled in project acme-prod-1: the deploy enables it, or now: gcloud services enable firestore.googleapis.com --project acme-prod-1'],
    [grpc(5, 'NOT_FOUND', 'Resource not found (resource=cio-events-dlq).'), 'Google Cloud refused the request: 5 NOT_FOUND: Resource not found (resource=cio-events-dlq).'],
    [grpc(8, 'RESOURCE_EXHAUSTED', 'Quota exceeded.'), 'quota exceeded (8 RESOURCE_EXHAUSTED: Quota exceeded.): wait and run it again, or raise the quota'],
    [grpc(14, 'UNAVAILABLE', 'Name resolution failed for target dns:pubsub.googleapis.com:443'), 'Google Cloud did not answer (14 UNAVAILABLE: Name resolution failed for target dns:pubsub.googleapis.com:443): check the network (or proxy)'],
    [grpc(16, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'), 'Google did not accept your credentials: run gcloud auth application-default login'],
    // @google-cloud/common's ApiError (BigQuery): the HTTP status and the API's reasons.
    [Object.assign(new Error('Access Denied: Table p:cio_webhooks.events'), { code: 403, errors: [{ reason: 'accessDenied', message: 'Access Denied: Table p:cio_webhooks.events' }] }), 'permission denied (403 accessDenied: Access Denied: Table p:cio_webhooks.events): docs/operations.md lists the roles each ops command needs'],
    [Object.assign(new Error('Not found: Dataset p:cio_webhooks'), { code: 404, errors: [{ reason: 'notFound', message: 'Not found: Dataset p:cio_webhooks' }] }), 'Google Cloud answered 404 notFound: Not found: Dataset p:cio_webhooks'],
    // gaxios, the 17 s EAI_AGAIN of the issue: now a line naming the host.
    [Object.assign(new Error('request to https://bigquery.googleapis.com/bigquery/v2/projects/p/jobs failed, reason: getaddrinfo EAI_AGAIN bigquery.googleapis.com'), { code: 'EAI_AGAIN' }), 'cannot reach bigquery.googleapis.com (EAI_AGAIN): check the network (or proxy)'],
    [new Error('Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information.'), 'no Google credentials found (application default credentials): run gcloud auth application-default login, or set GOOGLE_APPLICATION_CREDENTIALS'],
    [new Error('invalid_grant: reauth related error (invalid_rapt)'), 'your Google credentials were refused (invalid_grant: reauth related error (invalid_rapt)): run gcloud auth application-default login again'],
  ])('%s', (error, line) => {
    expect(googleFailure(error)).toBe(line);
  });

  it('leaves errors that are not Google\'s to the caller', () => {
    expect(googleFailure(new TypeError('x is not a function'))).toBeNull();
    expect(googleFailure('a string')).toBeNull();
  });

  it('names GOOGLE_APPLICATION_CREDENTIALS when the file it names cannot be read', () => {
    const error = new Error('The file at /keys/ops.json does not exist, or it is not a file. ENOENT: no such file or directory');
    expect(credentialsFailure(error, { GOOGLE_APPLICATION_CREDENTIALS: '/keys/ops.json' })).toBe(
      'GOOGLE_APPLICATION_CREDENTIALS names /keys/ops.json, which cannot be read: point it at a credentials file, or unset it and run gcloud auth application-default login',
    );
  });
});

describe('describeFailure', () => {
  it('is one line and the exit code: 2 for wrong arguments, 1 for everything else', () => {
    expect(describeFailure(new UsageError('--limit must be a positive whole number (got "0")'))).toEqual({ line: '--limit must be a positive whole number (got "0") (see --help)', exitCode: 2 });
    expect(describeFailure(new CommandFailed('snapshot s does not exist in p\n(second line)'))).toEqual({ line: 'snapshot s does not exist in p', exitCode: 1 });
    expect(describeFailure(grpc(7, 'PERMISSION_DENIED', 'denied'))).toMatchObject({ exitCode: 1, line: expect.stringMatching(/^permission denied/) });
    expect(describeFailure(new Error('unexpected\n    at somewhere (file.js:1:1)'))).toEqual({ line: 'unexpected', exitCode: 1 });
  });
});
