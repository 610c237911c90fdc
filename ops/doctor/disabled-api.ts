/**
 * "The API is not enabled", as doctor meets it. On a project the stack has never been applied to,
 * Firestore, Cloud Run and Secret Manager are normally not enabled yet (the apply enables them), and
 * Google answers a call to such an API with 403 PERMISSION_DENIED whose details carry a
 * google.rpc.ErrorInfo with reason SERVICE_DISABLED, domain googleapis.com, and metadata naming the
 * service and the consumer project (`projects/NUMBER`; `containerInfo` the project id) — the
 * documented google.api.ErrorReason. That 403 is not a missing role: nothing of that API can exist
 * in the project yet, which for a check of something the stack creates is "not created yet".
 *
 * The consumer is the project the call is charged to: with credentials that carry a quota project
 * (gcloud's application default credentials usually do), that project, which may not be the one
 * checked. An API disabled there says nothing about the checked project, and the line says where
 * to enable it instead.
 */
import type { GoogleApiError } from '../google-api.js';
import { SERVICE_DISABLED } from '../google-errors.js';

export interface DisabledApi {
  /** e.g. secretmanager.googleapis.com (null if the answer did not name it). */
  service: string | null;
  /** The consumer project as the answer names it: its id (containerInfo), else `projects/NUMBER`'s number; null if unnamed. */
  project: string | null;
  /** Whether that is the project doctor checks (true when the answer does not say). */
  checked: boolean;
}

/** What the project's enabled-services list said, for the checks that read it (null: it could not be listed). */
export interface ApiState {
  project: string;
  /** Enabled services, from Service Usage; null when the list could not be read. */
  enabled: ReadonlySet<string> | null;
  /** The project's number (from the list's parents), to recognize a consumer named by number. */
  projectNumber: string | null;
}

/** The SERVICE_DISABLED answer in an error, and whose project it is about; null for any other error. */
export function disabledApi(error: unknown, state: Pick<ApiState, 'project' | 'projectNumber'>): DisabledApi | null {
  const e = error as Partial<GoogleApiError> | null;
  const info = e?.info;
  if (!info || info.reason !== SERVICE_DISABLED || (info.domain !== null && info.domain !== 'googleapis.com')) return null;
  // Google names the consumer by id or by number, in `consumer` (projects/…) and in `containerInfo`.
  const named = [info.metadata.containerInfo, /^projects\/([^/]+)$/.exec(info.metadata.consumer ?? '')?.[1]].filter((p): p is string => Boolean(p));
  const isNumber = (p: string) => /^\d+$/.test(p);
  const ours = (p: string) => p === state.project || p === state.projectNumber;
  // A number doctor cannot place (no project number known) is taken for the checked project's: the
  // calls name the checked project, and that is the usual reading.
  const checked = named.length === 0 || named.some(ours) || (state.projectNumber === null && named.every(isNumber));
  return { service: info.metadata.service || null, project: named.find((p) => !isNumber(p)) ?? named[0] ?? null, checked };
}

/**
 * Whether `error` (from a call to `service` about the checked project) means that API is not
 * enabled there: its SERVICE_DISABLED answer for that project, or a 403 without a reason while the
 * project's list of enabled services (the APIs check's) does not hold it.
 */
export function apiNotEnabled(error: unknown, service: string, state: ApiState): boolean {
  const disabled = disabledApi(error, state);
  if (disabled) return disabled.checked && (disabled.service === null || disabled.service === service);
  const e = error as Partial<GoogleApiError> | null;
  // An answer that gives another reason is taken at its word; a bare 403 is read against the list.
  return e?.status === 403 && !e.info && state.enabled !== null && !state.enabled.has(service);
}

/** The clause every such line shares. */
export const notEnabledYet = (service: string, project: string) => `${service} is not enabled in ${project} yet, and the apply enables it`;

/**
 * A check stopped by an API that is not enabled, in one line with the command that enables it: in
 * the checked project (an API the checks need and the stack does not enable), or in the project the
 * calls are charged to (the credentials' quota project).
 */
export function disabledApiReason(disabled: DisabledApi, project: string): string {
  const service = disabled.service ?? 'an API this check calls';
  const where = disabled.checked ? project : (disabled.project ?? 'QUOTA_PROJECT');
  const enable = `gcloud services enable ${disabled.service ?? 'SERVICE'} --project ${where}`;
  if (disabled.checked) return `${service} is not enabled in ${where} (SERVICE_DISABLED): ${enable}, then run doctor again`;
  return `${service} is not enabled in ${where}, the project your credentials charge API calls to (their quota project), not ${project} (SERVICE_DISABLED): ${enable}, or gcloud auth application-default set-quota-project ${project}`;
}
