import { diag } from '@opentelemetry/api';

const reported = new Set<string>();
const MAX_KEYS = 1000;

/**
 * Logs a warning through OTel `diag` the first time `key` is seen (bounded, so a stream of
 * distinct keys cannot grow memory). Messages never carry prompt or completion text.
 */
export function warnOnce(key: string, message: string): void {
  if (reported.has(key) || reported.size >= MAX_KEYS) return;
  reported.add(key);
  diag.warn(`inferometer: ${message}`);
}

/**
 * Reports a failure of inferometer's own code, once per place. Only the error's name goes out:
 * messages of parse errors can quote the text they failed on, and that may be a completion.
 */
export function reportInternalError(where: string, error: unknown): void {
  const name = error instanceof Error ? error.name : typeof error;
  warnOnce(`internal:${where}`, `${where} failed (${name}); the request goes on unmetered where needed`);
}
