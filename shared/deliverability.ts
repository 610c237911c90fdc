/**
 * The deliverability guard's domain, one definition for the deployed guard, the local one, the ops
 * command and the stack: the settings (names, defaults, validation), how a message source's counts
 * are judged against them, and what a breach says. The counts come from the warehouse's table
 * function `deliverability_between` (infra/sql/deliverability_between.sql); the verdicts are
 * computed here, from the counts, so every reader judges alike whatever engine answered.
 *
 * Complaint rate = spammed / delivered, bounce rate = bounced / sent (Google's sender guidelines:
 * keep the spam rate below 0.10%, never reach 0.30%; practitioners warn at 2% bounces and act at 5%).
 * A rate is judged only with enough volume in the window, and "at the threshold" counts as reaching
 * it: thresholds are kept in parts per million and compared with whole numbers, so 3 complaints in
 * 1,000 deliveries is exactly 0.3%, never 0.29999….
 */
import { ConfigError, SETTINGS, integer, list, type Env, type LogLevel } from './config.js';
import { OBJECT_TYPES } from './events.js';

/** The table function's name, in the raw and the analytics dataset alike (infra/sql.ts registers it). */
export const DELIVERABILITY_FUNCTION = 'deliverability_between';

/** What Customer.io names as a message's origin; the table function keys its rows by these. */
export const MESSAGE_SOURCES = ['campaign', 'broadcast', 'newsletter', 'transactional'] as const;

/**
 * One row of deliverability_between: a source (and, for campaigns and broadcasts, its action) on one
 * channel, in one workspace: campaign 101 of one workspace and campaign 101 of another are different
 * campaigns.
 */
export interface DeliverabilityRow {
  /** The Customer.io workspace (CIO_WORKSPACES); null with one workspace. */
  workspace: string | null;
  source: string;
  source_id: number;
  /** The campaign's or broadcast's action (the message); null for newsletters and transactional messages. */
  action_id: number | null;
  /** The object_type: email, push, sms, … */
  channel: string;
  sent: number;
  delivered: number;
  bounced: number;
  spammed: number;
  unsubscribed: number;
  complaint_rate: number | null;
  bounce_rate: number | null;
  unsubscribe_rate: number | null;
}

export const COUNT_COLUMNS = ['sent', 'delivered', 'bounced', 'spammed', 'unsubscribed'] as const;
type CountColumn = (typeof COUNT_COLUMNS)[number];

/** The two judged rates: what is counted over what. The unsubscribe rate is information only. */
export const MEASURES = {
  complaint: { numerator: 'spammed', denominator: 'delivered', counted: 'spam complaints' },
  bounce: { numerator: 'bounced', denominator: 'sent', counted: 'bounces' },
} as const satisfies Record<string, { numerator: CountColumn; denominator: CountColumn; counted: string }>;
export type Measure = keyof typeof MEASURES;
export const MEASURE_NAMES = Object.keys(MEASURES) as Measure[];

/** A rate in parts per million (0.1% = 1,000 ppm). */
export type Ppm = number;
const PPM = 1_000_000;

export interface MeasureThresholds {
  warning: Ppm;
  critical: Ppm;
  /** The rate is judged only when its denominator reaches this in the window. */
  minVolume: number;
}

export interface DeliverabilityConfig {
  thresholds: Record<Measure, MeasureThresholds>;
  /** The guard judges the last this many hours of event times. */
  windowHours: number;
  /** Channels (object types) whose rates are judged; the others are shown, not judged. */
  channels: string[];
}

/** Message channels: every object type but customer (subscription events name no message). */
export const CHANNELS = OBJECT_TYPES.filter((t) => t !== 'customer');

const PERCENT = /^(\d{1,3})(?:\.(\d{1,4}))?%$/;

/** "0.1%" → 1000 ppm. The % sign is required: 0.1 and 0.001 are both plausible and mean different things. */
export function parsePercentage(raw: string): Ppm {
  const match = PERCENT.exec(raw);
  const ppm = match ? Number(match[1]) * 10_000 + Number((match[2] ?? '').padEnd(4, '0')) : NaN;
  if (!(ppm > 0 && ppm <= PPM)) throw new Error('must be a percentage with its % sign, above 0% and at most 100%, with up to 4 decimals, such as 0.1%');
  return ppm;
}

/** 1000 ppm → "0.1%". */
export function formatPpm(ppm: Ppm): string {
  const whole = Math.floor(ppm / 10_000);
  const fraction = String(ppm % 10_000).padStart(4, '0').replace(/0+$/, '');
  return `${whole}${fraction ? `.${fraction}` : ''}%`;
}

/** A rate (a fraction) as a percentage with enough digits to compare with the thresholds. */
export function formatRate(rate: number | null): string {
  if (rate === null) return '—';
  const percent = rate * 100;
  return `${percent.toFixed(percent < 1 ? 3 : 2).replace(/\.?0+$/, '')}%`;
}

const channelList = (raw: string): string[] => {
  const channels = list(raw);
  const unknown = channels.filter((c) => !(CHANNELS as readonly string[]).includes(c));
  if (channels.length === 0 || unknown.length > 0) throw new Error(`must list message channels among ${CHANNELS.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  return [...new Set(channels)];
};

interface Setting<T> {
  name: string;
  default: string;
  parse(raw: string): T;
}

/** Every setting of the judgement: the stack validates them at synth, the guard at start-up. */
export const DELIVERABILITY_SETTINGS = {
  complaintWarning: { name: 'DELIVERABILITY_COMPLAINT_WARNING', default: '0.1%', parse: parsePercentage },
  complaintCritical: { name: 'DELIVERABILITY_COMPLAINT_CRITICAL', default: '0.3%', parse: parsePercentage },
  bounceWarning: { name: 'DELIVERABILITY_BOUNCE_WARNING', default: '2%', parse: parsePercentage },
  bounceCritical: { name: 'DELIVERABILITY_BOUNCE_CRITICAL', default: '5%', parse: parsePercentage },
  minDelivered: { name: 'DELIVERABILITY_MIN_DELIVERED', default: '1000', parse: integer(1, 100_000_000) },
  minSent: { name: 'DELIVERABILITY_MIN_SENT', default: '1000', parse: integer(1, 100_000_000) },
  windowHours: { name: 'DELIVERABILITY_WINDOW_HOURS', default: '24', parse: integer(1, 168) },
  channels: { name: 'DELIVERABILITY_CHANNELS', default: 'email', parse: channelList },
} satisfies Record<string, Setting<unknown>>;

/** Minutes that divide an hour: a cron step that keeps the runs evenly spaced. */
const INTERVALS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60];

/** How the deployed guard runs: the stack's schedule and the query's byte cap. */
export const GUARD_SETTINGS = {
  intervalMinutes: {
    name: 'DELIVERABILITY_GUARD_INTERVAL_MINUTES',
    default: '15',
    parse: (raw: string) => {
      const minutes = Number(raw);
      if (!/^\d+$/.test(raw) || !INTERVALS.includes(minutes)) throw new Error(`must divide an hour evenly: one of ${INTERVALS.join(', ')}`);
      return minutes;
    },
  },
  maxGb: {
    name: 'DELIVERABILITY_GUARD_MAX_GB',
    default: '1',
    parse: (raw: string) => {
      const gb = Number(raw);
      if (!/^\d+(\.\d+)?$/.test(raw) || !(gb > 0 && gb <= 1000)) throw new Error('must be a number of GB above 0 and at most 1000');
      return gb;
    },
  },
} satisfies Record<string, Setting<unknown>>;

export interface SettingProblem {
  variable: string;
  message: string;
}

type Read = (name: string) => string | undefined;

/** One setting's value, or its default with the problem recorded (so every problem is reported at once). */
export function parseSetting<T>(read: Read, setting: Setting<T>, problems: SettingProblem[]): T {
  const raw = read(setting.name)?.trim() || setting.default;
  try {
    return setting.parse(raw);
  } catch (error) {
    problems.push({ variable: setting.name, message: `${(error as Error).message} (got ${JSON.stringify(raw)})` });
    return setting.parse(setting.default);
  }
}

/** The judgement's configuration, and every problem with it at once (for the stack's one error). */
export function readDeliverabilityConfig(read: Read): { config: DeliverabilityConfig; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const s = DELIVERABILITY_SETTINGS;
  const get = <T>(setting: Setting<T>) => parseSetting(read, setting, problems);
  const thresholds: Record<Measure, MeasureThresholds> = {
    complaint: { warning: get(s.complaintWarning), critical: get(s.complaintCritical), minVolume: get(s.minDelivered) },
    bounce: { warning: get(s.bounceWarning), critical: get(s.bounceCritical), minVolume: get(s.minSent) },
  };
  const pairs = [[s.complaintWarning, s.complaintCritical, thresholds.complaint], [s.bounceWarning, s.bounceCritical, thresholds.bounce]] as const;
  for (const [warning, critical, t] of pairs) {
    // A warning at or above the critical level would never be raised on its own.
    if (t.warning >= t.critical && !problems.some((p) => p.variable === warning.name || p.variable === critical.name)) {
      problems.push({ variable: warning.name, message: `(${formatPpm(t.warning)}) must be below ${critical.name} (${formatPpm(t.critical)})` });
    }
  }
  return { config: { thresholds, windowHours: get(s.windowHours), channels: get(s.channels) }, problems };
}

/** The same, for a process that must stop at the first problem (one line naming the variable). */
export function loadDeliverabilityConfig(env: Env): DeliverabilityConfig {
  const { config, problems } = readDeliverabilityConfig((name) => env[name]);
  if (problems.length > 0) throw new ConfigError(problems[0]!.variable, problems.map((p, i) => (i === 0 ? p.message : `${p.variable}: ${p.message}`)).join('; '));
  return config;
}

/** What the deployed guard function reads at start-up; the stack sets every variable. */
export interface GuardConfig {
  project: string;
  logLevel: LogLevel;
  /** The dataset holding the table function: the analysts' one (no addresses, no content). */
  dataset: string;
  maxBytesBilled: number;
  deliverability: DeliverabilityConfig;
}

export const GUARD_DATASET = { name: 'DELIVERABILITY_DATASET' } as const;

export function loadGuardConfig(env: Env): GuardConfig {
  const deliverability = loadDeliverabilityConfig(env);
  const project = env[SETTINGS.project.name]?.trim();
  if (!project) throw new ConfigError(SETTINGS.project.name, 'is required but not set');
  const dataset = env[GUARD_DATASET.name]?.trim() ?? '';
  if (!/^[A-Za-z0-9_]{1,1024}$/.test(dataset)) throw new ConfigError(GUARD_DATASET.name, `must be a BigQuery dataset id (got ${JSON.stringify(dataset)})`);
  const problems: SettingProblem[] = [];
  const gb = parseSetting((name) => env[name], GUARD_SETTINGS.maxGb, problems);
  const logLevel = parseSetting((name) => env[name], SETTINGS.logLevel, problems);
  if (problems.length > 0) throw new ConfigError(problems[0]!.variable, problems[0]!.message);
  return { project, logLevel, dataset, maxBytesBilled: gbToBytes(gb), deliverability };
}

export const gbToBytes = (gb: number) => Math.round(gb * 1024 ** 3);

/** The variables the guard function reads at start-up; the infra sets every one of them. */
export const GUARD_VARIABLES = [
  SETTINGS.project.name, SETTINGS.logLevel.name, GUARD_DATASET.name, GUARD_SETTINGS.maxGb.name,
  ...Object.values(DELIVERABILITY_SETTINGS).map((s) => s.name),
];

/** The settings as environment variables (what the stack hands the guard, what npm start passes on). */
export function deliverabilityEnv(config: DeliverabilityConfig): Record<string, string> {
  const s = DELIVERABILITY_SETTINGS;
  return {
    [s.complaintWarning.name]: formatPpm(config.thresholds.complaint.warning),
    [s.complaintCritical.name]: formatPpm(config.thresholds.complaint.critical),
    [s.bounceWarning.name]: formatPpm(config.thresholds.bounce.warning),
    [s.bounceCritical.name]: formatPpm(config.thresholds.bounce.critical),
    [s.minDelivered.name]: String(config.thresholds.complaint.minVolume),
    [s.minSent.name]: String(config.thresholds.bounce.minVolume),
    [s.windowHours.name]: String(config.windowHours),
    [s.channels.name]: config.channels.join(','),
  };
}

// ---- Judging -------------------------------------------------------------------------------------

export type Level = 'critical' | 'warning' | 'ok';
/** A source's verdict: its worst judged level, or unjudged when neither rate had the volume (or the channel is not judged). */
export type Verdict = Level | 'unjudged';

export interface MeasureJudgement {
  measure: Measure;
  numerator: number;
  denominator: number;
  /** numerator / denominator; null when the denominator is 0. */
  rate: number | null;
  /** null when the rate is not judged, with the reason. */
  level: Level | null;
  unjudged: 'channel' | 'volume' | null;
}

export interface Judgement {
  row: DeliverabilityRow;
  measures: Record<Measure, MeasureJudgement>;
  verdict: Verdict;
}

/** The level numerator/denominator reaches, in whole numbers: at a threshold is reaching it. */
export function levelOf(numerator: number, denominator: number, t: Pick<MeasureThresholds, 'warning' | 'critical'>): Level {
  const scaled = numerator * PPM;
  if (scaled >= t.critical * denominator) return 'critical';
  if (scaled >= t.warning * denominator) return 'warning';
  return 'ok';
}

export function judgeMeasure(row: DeliverabilityRow, measure: Measure, config: DeliverabilityConfig): MeasureJudgement {
  const { numerator: n, denominator: d } = MEASURES[measure];
  const t = config.thresholds[measure];
  const numerator = row[n];
  const denominator = row[d];
  const base = { measure, numerator, denominator, rate: denominator > 0 ? numerator / denominator : null };
  if (!config.channels.includes(row.channel)) return { ...base, level: null, unjudged: 'channel' };
  if (denominator < t.minVolume) return { ...base, level: null, unjudged: 'volume' };
  return { ...base, level: levelOf(numerator, denominator, t), unjudged: null };
}

const RANK: Record<Verdict, number> = { critical: 3, warning: 2, ok: 1, unjudged: 0 };

export function judge(row: DeliverabilityRow, config: DeliverabilityConfig): Judgement {
  const measures = { complaint: judgeMeasure(row, 'complaint', config), bounce: judgeMeasure(row, 'bounce', config) };
  const levels = MEASURE_NAMES.map((m) => measures[m].level).filter((l): l is Level => l !== null);
  const verdict = levels.reduce<Verdict>((worst, level) => (RANK[level] > RANK[worst] ? level : worst), 'unjudged');
  return { row, measures, verdict };
}

/** How far past its warning threshold a source's worst rate is: orders sources with the same verdict. */
function badness(j: Judgement, config: DeliverabilityConfig): number {
  return Math.max(...MEASURE_NAMES.map((m) => ((j.measures[m].rate ?? 0) * PPM) / config.thresholds[m].warning));
}

const keyOf = (r: DeliverabilityRow) => `${r.workspace ?? ''}\u0000${r.source}\u0000${String(r.source_id).padStart(20, '0')}\u0000${String(r.action_id ?? '').padStart(20, '0')}\u0000${r.channel}`;

/** Critical first, then warning, ok, unjudged; within each, the furthest past its threshold, then the largest. */
export function worstFirst(judgements: Judgement[], config: DeliverabilityConfig): Judgement[] {
  return [...judgements].sort(
    (a, b) => RANK[b.verdict] - RANK[a.verdict] || badness(b, config) - badness(a, config) || b.row.sent - a.row.sent || keyOf(a.row).localeCompare(keyOf(b.row)),
  );
}

export interface Breach {
  judgement: Judgement;
  measure: Measure;
  level: 'warning' | 'critical';
  threshold: Ppm;
}

/** The judged rates at or above a threshold: one breach per measure, at the highest level reached. */
export function breachesOf(judgement: Judgement, config: DeliverabilityConfig): Breach[] {
  return MEASURE_NAMES.flatMap((measure) => {
    const level = judgement.measures[measure].level;
    if (level !== 'warning' && level !== 'critical') return [];
    return [{ judgement, measure, level, threshold: config.thresholds[measure][level] }];
  });
}

/** "campaign 104 action 412 (email)"; with several workspaces "acme: campaign 104 action 412 (email)". */
export function sourceLabel(row: Pick<DeliverabilityRow, 'workspace' | 'source' | 'source_id' | 'action_id' | 'channel'>): string {
  return `${row.workspace === null ? '' : `${row.workspace}: `}${row.source} ${row.source_id}${row.action_id === null ? '' : ` action ${row.action_id}`} (${row.channel})`;
}

export interface TimeWindow {
  from: Date;
  to: Date;
}

/** The window the guard judges when it runs at `now`. */
export function guardWindow(now: Date, config: DeliverabilityConfig): TimeWindow {
  return { from: new Date(now.getTime() - config.windowHours * 3_600_000), to: now };
}

const count = (n: number) => n.toLocaleString('en-US');

/** One line a person reads: which source, which rate, against which threshold, from what counts. */
export function breachSummary(breach: Breach, window: TimeWindow): string {
  const m = breach.judgement.measures[breach.measure];
  const { counted, denominator } = MEASURES[breach.measure];
  return `${sourceLabel(breach.judgement.row)}: ${breach.measure} rate ${formatRate(m.rate)} is at or above the ${breach.level} threshold ${formatPpm(breach.threshold)} — ${count(m.numerator)} ${counted} of ${count(m.denominator)} ${denominator}, event times ${window.from.toISOString()} – ${window.to.toISOString()}`;
}

/**
 * The structured log entry of a breach (without severity and message, which the logger adds). The
 * fields the alert policy extracts as labels are the source's identity, the measure and the
 * threshold — all stable while a breach persists — as strings; the rate and the counts change from
 * run to run and stay out of the labels, or every run would be a new alert.
 */
export function breachFields(breach: Breach, window: TimeWindow): Record<string, unknown> {
  const { row } = breach.judgement;
  const m = breach.judgement.measures[breach.measure];
  return {
    // Only with several workspaces: a single-workspace deployment's entries are as they were.
    ...(row.workspace === null ? {} : { workspace: row.workspace }),
    source: row.source,
    source_id: String(row.source_id),
    action_id: row.action_id === null ? 'none' : String(row.action_id),
    channel: row.channel,
    measure: breach.measure,
    level: breach.level,
    threshold: formatPpm(breach.threshold),
    rate: m.rate,
    rate_text: formatRate(m.rate),
    numerator: m.numerator,
    denominator: m.denominator,
    counts: Object.fromEntries(COUNT_COLUMNS.map((c) => [c, row[c]])),
    window_start: window.from.toISOString(),
    window_end: window.to.toISOString(),
    summary: breachSummary(breach, window),
  };
}

/** The labels the alert policies extract from a breach entry (keys of breachFields). */
export const BREACH_LABELS = ['source', 'source_id', 'action_id', 'channel', 'measure', 'threshold'] as const;

/** The same with several workspaces, where a source is one workspace's: its name is part of the rule. */
export function breachLabels(workspaces: boolean): readonly string[] {
  return workspaces ? ['workspace', ...BREACH_LABELS] : BREACH_LABELS;
}

// ---- Reading the table function ------------------------------------------------------------------

const toNumber = (value: unknown): number => Number(typeof value === 'object' && value !== null && 'value' in value ? (value as { value: unknown }).value : value);
const nullableNumber = (value: unknown): number | null => (value === null || value === undefined ? null : toNumber(value));

/** A row of deliverability_between as either engine's client returns it (BigQuery numbers, DuckDB's JSON strings). */
export function toDeliverabilityRow(record: Record<string, unknown>): DeliverabilityRow {
  return {
    workspace: record.workspace === null || record.workspace === undefined ? null : String(record.workspace),
    source: String(record.source),
    source_id: toNumber(record.source_id),
    action_id: nullableNumber(record.action_id),
    channel: String(record.channel),
    sent: toNumber(record.sent),
    delivered: toNumber(record.delivered),
    bounced: toNumber(record.bounced),
    spammed: toNumber(record.spammed),
    unsubscribed: toNumber(record.unsubscribed),
    complaint_rate: nullableNumber(record.complaint_rate),
    bounce_rate: nullableNumber(record.bounce_rate),
    unsubscribe_rate: nullableNumber(record.unsubscribe_rate),
  };
}

/** The BigQuery job the deployed guard and `ops deliverability` run: the table function over a window, capped. */
export function deliverabilityQuery(project: string, dataset: string, window: TimeWindow, maxBytesBilled: number) {
  return {
    query: `SELECT * FROM \`${project}.${dataset}.${DELIVERABILITY_FUNCTION}\`(@from, @to)`,
    params: { from: window.from, to: window.to },
    maximumBytesBilled: String(maxBytesBilled),
  };
}
