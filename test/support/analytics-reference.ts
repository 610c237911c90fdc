/**
 * The analysts' payload rules (infra/privacy.ts PAYLOAD_FIELDS) computed in TypeScript with the
 * shared functions the handler uses: the answer the SQL twins are checked against. Written from the
 * rules' definitions, not from the SQL.
 */
import { CONTENT_IS_PREFERENCES, PAYLOAD_FIELDS, type FieldRule, type PayloadFields } from '../../infra/privacy.js';
import { normalizeIdentifier, personalKind, pseudonymize } from '../../shared/pseudonym.js';
import { redactText, redactUrl } from '../../shared/redact.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v);
const textOf = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

function hashOf(v: unknown, key: Uint8Array): string | undefined {
  const text = textOf(v);
  const normalized = text === null ? null : normalizeIdentifier(text);
  return normalized === null ? undefined : pseudonymize(normalized, key);
}

function value(rule: FieldRule, v: unknown, metric: string | null, key: Uint8Array): Json | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof rule === 'object') {
    if ('object' in rule) return isObject(v) ? object(rule.object, v, metric, key) : undefined;
    if (!Array.isArray(v)) return undefined;
    const items = v.map((item) => (isObject(item) ? object(rule.each, item, metric, key) : undefined)).filter((x): x is Json => x !== undefined);
    return items.length > 0 ? items : undefined;
  }
  const text = textOf(v);
  switch (rule) {
    case 'keep':
      return isScalar(v) ? v : undefined;
    case 'hash':
      return hashOf(v, key);
    case 'hash-if-personal': {
      const normalized = text === null ? null : normalizeIdentifier(text);
      if (normalized !== null && personalKind(normalized) !== null) return pseudonymize(normalized, key);
      return isScalar(v) ? v : undefined;
    }
    case 'url':
      return text === null ? undefined : redactUrl(text);
    case 'text':
      return text === null ? undefined : redactText(text);
    case 'preferences': {
      if (metric !== CONTENT_IS_PREFERENCES || text === null) return undefined;
      try {
        const parsed = JSON.parse(text) as unknown;
        return isObject(parsed) && isObject(parsed.topics) ? JSON.stringify({ topics: parsed.topics }) : undefined;
      } catch {
        return undefined;
      }
    }
  }
}

function object(fields: PayloadFields, source: Record<string, Json>, metric: string | null, key: Uint8Array): Json | undefined {
  const out: Record<string, Json> = {};
  for (const [field, rule] of Object.entries(fields)) {
    if (!Object.hasOwn(source, field)) continue;
    const kept = value(rule, source[field], metric, key);
    if (kept !== undefined) out[field] = kept;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The analysts' payload for a raw body: null when it is not a JSON object (or nothing is left). */
export function referencePayload(body: string, metric: string | null, key: Uint8Array): Json | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  return isObject(parsed) ? (object(PAYLOAD_FIELDS, parsed, metric, key) ?? null) : null;
}

/** A payload with its preference content parsed, so two engines' serializations compare by meaning. */
export function comparablePayload(payload: unknown): unknown {
  const parsed = typeof payload === 'string' ? (JSON.parse(payload) as unknown) : payload;
  if (isObject(parsed) && isObject(parsed.data) && typeof parsed.data.content === 'string') {
    return { ...parsed, data: { ...parsed.data, content: JSON.parse(parsed.data.content) as Json } };
  }
  return parsed;
}
