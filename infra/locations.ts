/**
 * Where the stack can be deployed, as Google documents it: the one place these lists live, so
 * synth refuses a region or location the apply would fail on (PIPELINE_REGION=europe-west99,
 * FIRESTORE_LOCATION=europe) before anything is created. Google adds regions: when one is missing
 * here, add it from the page named beside its list, and update the date.
 */

/**
 * Regions Cloud Run functions (2nd gen: the cloudfunctions2 API the stack deploys with) runs in.
 * Source: https://cloud.google.com/functions/docs/locations (Tier 1 and Tier 2 tables), with the
 * newest 2nd-gen-only regions (africa-south1, europe-north2, northamerica-south1) as
 * https://firebase.google.com/docs/functions/locations lists them; read 2026-12-01.
 */
export const FUNCTIONS_REGIONS = [
  // Tier 1
  'africa-south1', 'asia-east1', 'asia-northeast1', 'asia-northeast2', 'europe-north1', 'europe-north2', 'europe-southwest1',
  'europe-west1', 'europe-west4', 'europe-west8', 'europe-west9', 'me-west1', 'northamerica-south1', 'us-central1', 'us-east1',
  'us-east4', 'us-east5', 'us-south1', 'us-west1',
  // Tier 2
  'asia-east2', 'asia-northeast3', 'asia-south1', 'asia-south2', 'asia-southeast1', 'asia-southeast2', 'australia-southeast1',
  'australia-southeast2', 'europe-central2', 'europe-west2', 'europe-west3', 'europe-west6', 'europe-west10', 'europe-west12',
  'me-central1', 'me-central2', 'northamerica-northeast1', 'northamerica-northeast2', 'southamerica-east1', 'southamerica-west1',
  'us-west2', 'us-west3', 'us-west4',
] as const;

/**
 * Firestore's multi-region locations. Source: https://cloud.google.com/firestore/native/docs/locations
 * (Multi-region locations: eur3 Europe, nam5 and nam7 United States); read 2026-12-01.
 */
export const FIRESTORE_MULTI_REGIONS = ['eur3', 'nam5', 'nam7'] as const;

/**
 * Firestore's regional locations. Source: https://cloud.google.com/firestore/docs/reference/rest/v1/projects.locations/get
 * (the locations the Firestore API serves, without its "global", "eu" and "us" endpoints) and
 * https://cloud.google.com/firestore/native/docs/locations (Regional locations); read 2026-12-01.
 */
export const FIRESTORE_REGIONS = [
  'africa-south1', 'asia-east1', 'asia-east2', 'asia-northeast1', 'asia-northeast2', 'asia-northeast3', 'asia-south1',
  'asia-south2', 'asia-southeast1', 'asia-southeast2', 'asia-southeast3', 'australia-southeast1', 'australia-southeast2',
  'europe-central2', 'europe-north1', 'europe-north2', 'europe-southwest1', 'europe-west1', 'europe-west2', 'europe-west3',
  'europe-west4', 'europe-west6', 'europe-west8', 'europe-west9', 'europe-west10', 'europe-west12', 'europe-west15',
  'me-central1', 'me-central2', 'me-west1', 'northamerica-northeast1', 'northamerica-northeast2', 'northamerica-south1',
  'southamerica-east1', 'southamerica-west1', 'us-central1', 'us-east1', 'us-east4', 'us-east5', 'us-south1', 'us-west1',
  'us-west2', 'us-west3', 'us-west4',
] as const;

export const FIRESTORE_LOCATIONS: readonly string[] = [...FIRESTORE_MULTI_REGIONS, ...FIRESTORE_REGIONS];

/** The documented regions sharing `region`'s geography (its first word), to suggest the one meant. */
export function regionsLike(region: string, regions: readonly string[]): string[] {
  const area = region.split('-')[0];
  return regions.filter((r) => r.split('-')[0] === area);
}
