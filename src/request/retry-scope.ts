import { AsyncLocalStorage } from 'node:async_hooks';
import type { TimedFailure } from '../fetch/classify.js';
import type { RequestRecord } from '../record.js';

/**
 * One logical request of the openai SDK: the attempts it makes (first try and retries) share one
 * record, so a 429 followed by a success counts as one successful request of two attempts, timed
 * from the first. The SDK runs every attempt inside the scope that `instrument()` opens.
 */
export interface RetryScope {
  record: RequestRecord | undefined;
  /** How the latest attempt failed, when it did; the SDK may still retry. */
  lastFailure: TimedFailure | undefined;
  /** The client's own `timeout` (ms), the deadline of attempts that name none of their own. */
  readonly clientTimeoutMs: number | undefined;
  /**
   * Counts an attempt that ended in a plain abort, once it is known whether that was the SDK's
   * timeout (it retries, or rejects with its timeout error) or the app's abort.
   */
  abortedAttempt: ((errorType: string) => void) | undefined;
}

const storage = new AsyncLocalStorage<RetryScope>();

export function currentRetryScope(): RetryScope | undefined {
  return storage.getStore();
}

export function runInRetryScope<T>(scope: RetryScope, fn: () => T): T {
  return storage.run(scope, fn);
}
