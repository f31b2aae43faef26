import type { MeterConfig } from '../config.js';
import { reportInternalError } from '../diag.js';
import { RequestRecord } from '../record.js';
import { type RetryScope, currentRetryScope } from '../request/retry-scope.js';
import { tapBody } from '../stream/body-tap.js';
import { BINARY_EVENT_STREAM, createEventStreamReader } from '../stream/eventstream-reader.js';
import { createJsonReader } from '../stream/json-reader.js';
import { RecordSink } from '../stream/record-sink.js';
import { createSseReader } from '../stream/sse-reader.js';
import { ERROR_CONNECTION, ERROR_TIMEOUT } from '../semconv.js';
import { requestKey, retryWindow } from '../request/retry-linker.js';
import { type TimedFailure, abortedByTimeout, classifyFetchError } from './classify.js';
import { keepStreamShapes } from './kept-shapes.js';
import { type PreparedRequest, prepareRequest } from './prepare.js';

type Fetch = typeof globalThis.fetch;

/**
 * Wraps a fetch so that every call to a metered endpoint is timed at the network boundary: the
 * request is prepared once, each HTTP attempt is counted, and a successful response's body is
 * read through a tap as it arrives. Everything inferometer does is guarded: if it fails, the call
 * goes on unmetered, and what the app receives is what `underlying` returned or threw.
 */
export function createMeteredFetch(config: MeterConfig, underlying: () => Fetch): Fetch {
  return async function meteredFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    let prepared: PreparedRequest;
    try {
      prepared = prepareRequest(config, input, init);
    } catch (error) {
      reportInternalError('preparing a request', error);
      return underlying()(input, init);
    }
    if (prepared.described === undefined) return underlying()(prepared.input, prepared.init);

    const scope = currentRetryScope();
    let record = scope?.record;
    let link: Link = { scope, key: undefined };
    try {
      if (scope === undefined) {
        // Outside an SDK's retry scope: a framework above may be retrying a failed attempt.
        const key = config.linkRetries ? requestKey('POST', prepared.described.url.href, (prepared.withoutInjection ?? prepared.init)?.body) : undefined;
        link = { scope, key };
        if (key !== undefined && config.linker.waiting) record = config.linker.take(key);
      }
      if (record === undefined || record.finished) {
        record = new RequestRecord(prepared.attributes, prepared.described.request.stream, performance.now(), config.recorder);
        record.estimatedInputTokens = prepared.described.request.estimatedInputTokens;
        if (scope !== undefined) scope.record = record;
        config.recorder.requestStarted(prepared.attributes);
      }
    } catch (error) {
      reportInternalError('starting a request record', error);
      return underlying()(prepared.input, prepared.init);
    }
    return attempt(config, underlying(), prepared, prepared.init, record, link);
  };
}

/** How an attempt is tied to the other attempts of its request: the SDK's retry scope, or the key a framework's retry repeats. */
interface Link {
  readonly scope: RetryScope | undefined;
  readonly key: string | undefined;
}

/** One HTTP attempt (and, if the provider refuses the usage option inferometer added, one more without it). */
async function attempt(
  config: MeterConfig,
  fetch: Fetch,
  prepared: PreparedRequest,
  init: RequestInit | undefined,
  record: RequestRecord,
  link: Link,
): Promise<Response> {
  const { scope } = link;
  const signal = init?.signal ?? undefined;
  record.attempts++;
  const deadlineMs = deadlineOf(prepared, scope);
  // The SDK retried an attempt that was aborted: the abort was its timeout, not the app's.
  scope?.abortedAttempt?.(ERROR_TIMEOUT);
  const attemptStart = performance.now();
  let response: Response;
  try {
    response = await fetch(prepared.input, init);
  } catch (error) {
    try {
      const now = performance.now();
      const failure = classifyFetchError(error, signal, now - attemptStart, deadlineMs);
      if (scope !== undefined && failure.outcome === 'cancelled') {
        // A plain abort inside the SDK's retry scope: its timeout or the app's abort. The SDK knows
        // which (it retries a timeout, and rejects with its own error class): count the attempt then.
        const attributes = prepared.attributes;
        scope.abortedAttempt = (errorType) => {
          scope.abortedAttempt = undefined;
          config.recorder.attempt(attributes, undefined, errorType);
        };
      } else {
        config.recorder.attempt(prepared.attributes, undefined, failure.errorType ?? 'cancelled');
      }
      failed(config, record, link, signal, { outcome: failure.outcome, errorType: failure.errorType, at: now }, undefined);
    } catch (failure) {
      reportInternalError('recording a failed attempt', failure);
    }
    throw error; // the app's own error, whatever happened above
  }
  const now = performance.now();
  config.recorder.attempt(prepared.attributes, response.status, undefined);
  record.headersAt = now;
  const retryAfterMs = config.recorder.responseHeaders(record, response.headers);

  if (!response.ok) {
    const withoutInjection = prepared.withoutInjection;
    if (REFUSAL_STATUSES.has(response.status) && withoutInjection !== undefined && init !== withoutInjection) {
      // Some servers refuse the usage option inferometer added (400, or 422 from FastAPI/pydantic
      // and axum). Ask again without it, and never ask that server again: inferometer must not
      // turn a working call into a failing one.
      const text = await response.text();
      if (prepared.described!.request.refusesUsageRequest(response.status, text)) {
        const retried = await attempt(config, fetch, prepared, withoutInjection, record, link);
        if (retried.ok) config.usageRejectedBy.add(prepared.described!.url.origin);
        return retried;
      }
      response = new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
    }
    failed(config, record, link, signal, { outcome: 'error', errorType: String(response.status), at: now }, retryAfterMs);
    return response;
  }

  if (scope !== undefined) scope.lastFailure = undefined;
  try {
    if (response.body === null) {
      record.finish('success', undefined, now);
      return response;
    }
    const { protocol, request } = prepared.described!;
    const contentType = response.headers.get('content-type')?.toLowerCase() ?? '';
    const sink = new RecordSink(record, config.admitErrorCode);
    const timedOut = (): boolean => abortedByTimeout(signal, performance.now() - attemptStart, deadlineMs);
    if (protocol.messages !== undefined && contentType.includes(BINARY_EVENT_STREAM)) {
      record.streaming = true;
      return tapBody(response, createEventStreamReader(record, protocol.messages(sink), sink), record, signal, timedOut);
    }
    const declaredEventStream = contentType.includes('text/event-stream');
    // Any answer to a streamed request is read as SSE, whatever it says it is: the SDK parses it
    // as SSE anyway (some proxies say text/plain), and a body with no event is `not_event_stream`.
    const sse = declaredEventStream || request.stream;
    record.streaming = sse;
    if (sse) keepStreamShapes(protocol);
    const hideUsage = prepared.withoutInjection !== undefined && init === prepared.init;
    const reader = sse
      ? createSseReader(record, protocol.events(sink, hideUsage), sink, {
          hideUsage,
          cutMarker: protocol.cutMarker,
          declaredEventStream,
          // A response of the platform's fetch is `basic` (or `cors`); one an app's fetch built is `default`.
          ownsChunks: response.type === 'basic' || response.type === 'cors',
        })
      : createJsonReader(protocol, sink);
    return tapBody(response, reader, record, signal, timedOut);
  } catch (error) {
    reportInternalError('tapping a response body', error);
    record.finish('success', undefined, now);
    return response;
  }
}

/**
 * An attempt failed. Inside an SDK's retry scope the SDK decides whether it retries, so the
 * request is only ended when the SDK gives up (see instrument.ts). Elsewhere, a failure that
 * frameworks retry waits for a retry of the same request (see RetryLinker); any other ends now.
 */
function failed(config: MeterConfig, record: RequestRecord, link: Link, signal: AbortSignal | undefined, failure: TimedFailure, retryAfterMs: number | undefined): void {
  // Guarded: it runs just before the app gets its error or response, which nothing of ours may replace.
  try {
    if (link.scope !== undefined) {
      link.scope.lastFailure = failure;
      return;
    }
    if (link.key !== undefined && signal?.aborted !== true && isRetried(failure)) {
      config.linker.park(link.key, record, failure, retryWindow(retryAfterMs, record.attempts));
      return;
    }
    record.finish(failure.outcome, failure.errorType, failure.at);
  } catch (error) {
    reportInternalError('ending a failed attempt', error);
  }
}

/** Failures that frameworks retry: 408, 409, 429, 5xx, a connection error, a transport timeout. */
function isRetried(failure: TimedFailure): boolean {
  if (failure.outcome !== 'error' || failure.errorType === undefined) return false;
  if (failure.errorType === ERROR_CONNECTION || failure.errorType === ERROR_TIMEOUT) return true;
  const status = Number(failure.errorType);
  return status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * The deadline of an attempt (ms), to tell the client's timeout from the app's abort: the openai
 * SDK's per-call `x-stainless-timeout` (whole seconds; `0` for less than one, which says nothing
 * usable), else the timeout of the client that opened the retry scope.
 */
function deadlineOf(prepared: PreparedRequest, scope: RetryScope | undefined): number | undefined {
  const seconds = prepared.timeoutSeconds;
  if (seconds === undefined) return scope?.clientTimeoutMs;
  return seconds > 0 ? seconds * 1000 : undefined;
}

/** Statuses with which servers refuse an unknown request member (400; 422 from FastAPI/pydantic and axum). */
const REFUSAL_STATUSES = new Set([400, 422]);


