/**
 * The functions' JSON log lines in a compact form for a person at a terminal (`npm start`): time,
 * component, severity, message, then the fields as key=value. Deployed, the JSON stays the format
 * (Cloud Logging reads it); LOCAL_LOG_FORMAT=json keeps it locally too.
 */
const SEVERITY_WIDTH = 7;

function text(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

export function formatLogLine(line: string, component: string, now: Date = new Date()): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an entry');
    entry = parsed as Record<string, unknown>;
  } catch {
    return `${now.toISOString().slice(11, 19)} ${component.padEnd(8)} ${line}`;
  }
  const { severity, message, component: logged, ...fields } = entry;
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${text(v)}`).join(' ');
  return `${now.toISOString().slice(11, 19)} ${String(logged ?? component).padEnd(8)} ${String(severity ?? '').padEnd(SEVERITY_WIDTH)} ${String(message ?? '')}${rest ? `  ${rest}` : ''}`;
}
