/**
 * `ops invoker-check`: shows, or turns off, Cloud Run's invoker IAM check on the receiver's service
 * (RECEIVER_ACCESS=no-invoker-check). The deploy runs `off` after every update of the receiver
 * (a terraform_data step triggered by the function's update_time), with the credentials Terraform
 * itself uses: no gcloud CLI and no gcloud login are involved.
 */
import { pipelineNames } from '../../infra/names.js';
import { CommandFailed, UsageError, parse, positiveInt } from '../cli.js';
import { SERVICE_NAME, getService, serviceName, turnInvokerCheckOff } from '../cloud-run.js';
import { createGoogleApi } from '../google-api.js';

export const INVOKER_CHECK_HELP = `usage: npm run ops -- invoker-check <show|off> [--service NAME | --project ID --region R --prefix P] [--timeout SECONDS]

show   whether Cloud Run checks IAM before a request reaches the receiver (invokerIamDisabled)
off    turn the check off (services.patch, updateMask=invokerIamDisabled), wait for the operation,
       confirm; nothing to do when it is off already. With RECEIVER_ACCESS=no-invoker-check the
       deploy runs this after every update of the receiver. Needs run.services.update and
       run.services.setIamPolicy (Cloud Run Admin).

  --service NAME       projects/P/locations/R/services/S (default: the stack's receiver, from the options below)
  --project ID         default GOOGLE_CLOUD_PROJECT
  --region R           default PIPELINE_REGION or us-central1
  --prefix P           default PIPELINE_PREFIX or cio
  --timeout SECONDS    bound on the whole change (default 300)

Credentials: those Terraform's google provider uses — GOOGLE_OAUTH_ACCESS_TOKEN, GOOGLE_CREDENTIALS
(or GOOGLE_CLOUD_KEYFILE_JSON, GCLOUD_KEYFILE_JSON), else the application default credentials;
GOOGLE_IMPERSONATE_SERVICE_ACCOUNT is honoured.
exit status: 0 off (show: off), 1 failed (show: on, or no such service), 2 wrong arguments`;

/** How often a change in progress is looked at again. */
const POLL_MS = 1_000;
const CALL_TIMEOUT_MS = 15_000;

export async function invokerCheck(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { service: { type: 'string' }, project: { type: 'string' }, region: { type: 'string' }, prefix: { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values.help) return void process.stdout.write(`${INVOKER_CHECK_HELP}\n`), 0;
  const [action, ...extra] = positionals;
  if ((action !== 'show' && action !== 'off') || extra.length > 0) throw new UsageError('say show or off');
  const timeoutMs = positiveInt('timeout', values.timeout, 300) * 1000;
  let name = values.service;
  if (name === undefined) {
    const project = values.project ?? process.env.GOOGLE_CLOUD_PROJECT;
    if (!project) throw new UsageError('name the service with --service, or the project with --project or GOOGLE_CLOUD_PROJECT');
    const region = values.region ?? process.env.PIPELINE_REGION ?? 'us-central1';
    name = serviceName(project, region, pipelineNames(values.prefix ?? process.env.PIPELINE_PREFIX ?? 'cio').receiver);
  }
  if (!SERVICE_NAME.test(name)) throw new UsageError(`--service must be projects/P/locations/R/services/S (got ${JSON.stringify(name)})`);
  const api = createGoogleApi(process.env);

  if (action === 'show') {
    const service = await getService(api, name, CALL_TIMEOUT_MS);
    if (!service) throw new CommandFailed(`${name} does not exist`);
    const off = service.invokerIamDisabled === true;
    process.stdout.write(`${name}: invoker check ${off ? 'off (anyone may call it; the signature is the authentication)' : 'on (only principals with run.invoker may call it)'}\n`);
    return off ? 0 : 1;
  }
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const outcome = await turnInvokerCheckOff(api, name, { timeoutMs, pollMs: POLL_MS, callTimeoutMs: CALL_TIMEOUT_MS, log }).catch((error: Error) => {
    throw new CommandFailed(error.message);
  });
  log(outcome === 'already-off' ? `${name}: invoker check already off` : `${name}: invoker check turned off`);
  return 0;
}
