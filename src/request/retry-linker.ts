import type { TimedFailure } from '../fetch/classify.js';
import type { RequestRecord } from '../record.js';

/*
 * Retries made above fetch (the Vercel AI SDK's `maxRetries`, LangChain's AsyncCaller, an SDK
 * given meteredFetch() as its fetch) are attempts of one logical request. Nothing tells the fetch
 * layer which call a request belongs to, but a framework retries by sending the same request
 * again: the same method, URL and body, soon after an attempt failed the way frameworks retry
 * (429, 408, 409, 5xx, a connection error). So such a failure is not ended at once: its record is
 * parked for a retry window, and an identical request within the window continues it (timed
 * from the first attempt, so TTFT includes the wait). If none comes, the record ends as it
 * failed, at the time it failed: the error is counted, only later. A request that differs from
 * every parked one is a request of its own, so nothing is lost or counted twice; the price is
 * that two identical calls made at once, one failing, may be taken for one call and its retry.
 */

interface Parked {
  readonly record: RequestRecord;
  readonly failure: TimedFailure;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** At most this many failed attempts wait for a retry; the oldest makes room (and ends). */
export const MAX_PARKED = 1000;
/** The wait for a retry when the provider names none: frameworks back off 1-8 s at first (ms). */
export const DEFAULT_WINDOW_MS = 5_000;
/** The longest wait for a retry (ms). */
export const MAX_WINDOW_MS = 65_000;
/** Beyond a `retry-after` the provider asked for, how long a retry may take to come (ms). */
const MARGIN_MS = 3_000;

/** The retry window after a failed attempt, from the wait the provider asked for (ms), if any. */
export function retryWindow(retryAfterMs: number | undefined, attempts: number): number {
  if (retryAfterMs !== undefined) return Math.min(MAX_WINDOW_MS, retryAfterMs + MARGIN_MS);
  return Math.min(MAX_WINDOW_MS, DEFAULT_WINDOW_MS * 2 ** Math.max(0, attempts - 1));
}

/** Failed attempts waiting for a framework's retry, keyed by the request they would repeat. */
export class RetryLinker {
  readonly #parked = new Map<string, Parked>();

  /** Whether any attempt waits (so a request need not be keyed when none does). */
  get waiting(): boolean {
    return this.#parked.size > 0;
  }

  /**
   * Keeps `record` open for `windowMs` after its attempt failed, for a retry of the same request
   * (`key`); ends it as it failed if none comes.
   */
  park(key: string, record: RequestRecord, failure: TimedFailure, windowMs: number): void {
    const previous = this.#parked.get(key);
    if (previous !== undefined) this.#end(key, previous);
    if (this.#parked.size >= MAX_PARKED) {
      const [oldestKey, oldest] = this.#parked.entries().next().value!;
      this.#end(oldestKey, oldest);
    }
    const timer = setTimeout(() => {
      const parked = this.#parked.get(key);
      if (parked?.record === record) this.#end(key, parked);
    }, windowMs);
    // A waiting record must never keep the app's process alive.
    (timer as { unref?: () => void }).unref?.();
    this.#parked.set(key, { record, failure, timer });
  }

  /**
   * The record a request continues, if it repeats a parked one (its retry); else undefined.
   * Abort signals are not compared: an SDK under a framework (LangChain's openai client) makes a
   * new one per call, the framework's retries included.
   */
  take(key: string): RequestRecord | undefined {
    const parked = this.#parked.get(key);
    if (parked === undefined || parked.record.finished) return undefined;
    clearTimeout(parked.timer);
    this.#parked.delete(key);
    return parked.record;
  }

  #end(key: string, parked: Parked): void {
    clearTimeout(parked.timer);
    this.#parked.delete(key);
    const { outcome, errorType, at } = parked.failure;
    parked.record.finish(outcome, errorType, at);
  }
}

/** A request's key for the linker: method, URL and a hash of its body (a string: every SDK sends JSON). */
export function requestKey(method: string, url: string, body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  // FNV-1a, 32 bits: one pass, no allocation; a collision only links two requests that are
  // already the same call to the same URL.
  let hash = 0x811c9dc5;
  for (let i = 0; i < body.length; i++) {
    hash ^= body.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return `${method.toUpperCase()} ${url} ${body.length} ${(hash >>> 0).toString(36)}`;
}
