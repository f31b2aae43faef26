import type { Outcome } from '../record.js';
import { ERROR_CONNECTION, ERROR_TIMEOUT, OTHER } from '../semconv.js';

/** How a failed attempt or request ended: its outcome and, for errors, its `error.type`. */
export interface Failure {
  readonly outcome: Exclude<Outcome, 'success'>;
  readonly errorType: string | undefined;
}

/** A failure and when it happened (`performance.now()` ms). */
export interface TimedFailure extends Failure {
  readonly at: number;
}

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/**
 * Whether an aborted request was aborted by a timeout rather than by the app: the abort's reason
 * is a `TimeoutError` (`AbortSignal.timeout()`, as the Vercel AI SDK and LangChain use), or it
 * came at or after the deadline the client announced (`deadlineMs`: the openai SDK's per-call
 * `x-stainless-timeout`, else the client's own `timeout`, which the SDK enforces with a plain
 * abort that no reason tells apart from the app's).
 */
export function abortedByTimeout(signal: AbortSignal | null | undefined, elapsedMs: number, deadlineMs: number | undefined): boolean {
  if ((signal?.reason as { name?: unknown } | undefined)?.name === 'TimeoutError') return true;
  // The SDK's timer starts a little before the attempt is handed to us: allow for that.
  return deadlineMs !== undefined && deadlineMs > 0 && elapsedMs >= deadlineMs - DEADLINE_SLACK_MS;
}

/** How much earlier than the deadline an abort may be seen and still be the deadline's (ms). */
const DEADLINE_SLACK_MS = 5;

/**
 * Classifies an error thrown by fetch. An abort is a timeout when {@link abortedByTimeout} says
 * so, else the app's own cancellation.
 */
export function classifyFetchError(error: unknown, signal: AbortSignal | null | undefined, elapsedMs: number, deadlineMs: number | undefined): Failure {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError') return { outcome: 'error', errorType: ERROR_TIMEOUT };
  if (signal?.aborted === true || name === 'AbortError') {
    if (abortedByTimeout(signal, elapsedMs, deadlineMs)) return { outcome: 'error', errorType: ERROR_TIMEOUT };
    return { outcome: 'cancelled', errorType: undefined };
  }
  const code = codeOf(error);
  if (code !== undefined && TIMEOUT_CODES.has(code)) return { outcome: 'error', errorType: ERROR_TIMEOUT };
  if (code !== undefined && CONNECTION_CODES.has(code)) return { outcome: 'error', errorType: ERROR_CONNECTION };
  // undici reports every network failure as `TypeError: fetch failed` with the cause inside.
  if (error instanceof TypeError) return { outcome: 'error', errorType: ERROR_CONNECTION };
  return { outcome: 'error', errorType: OTHER };
}

function codeOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Classifies the error an SDK request finally rejected with (after its retries), by the error
 * classes that the Stainless-generated SDKs (openai, @anthropic-ai/sdk) share.
 */
export function classifySdkError(error: unknown): Failure | undefined {
  const name = (error as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  if (name === 'APIUserAbortError') return { outcome: 'cancelled', errorType: undefined };
  if (name === 'APIConnectionTimeoutError') return { outcome: 'error', errorType: ERROR_TIMEOUT };
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number') return { outcome: 'error', errorType: String(status) };
  if (name === 'APIConnectionError') return { outcome: 'error', errorType: ERROR_CONNECTION };
  return undefined;
}
