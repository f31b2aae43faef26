import type { MeterConfig } from '../config.js';
import { reportInternalError, warnOnce } from '../diag.js';
import { abortedByTimeout, classifyFetchError } from '../fetch/classify.js';
import { prepareRequest } from '../fetch/prepare.js';
import { RequestRecord } from '../record.js';
import { OTHER } from '../semconv.js';
import type { BodyReader } from '../stream/body-reader.js';
import { tapBody } from '../stream/body-tap.js';
import { BINARY_EVENT_STREAM, createEventStreamReader } from '../stream/eventstream-reader.js';
import { createJsonReader } from '../stream/json-reader.js';
import { RecordSink } from '../stream/record-sink.js';
import { type Ending, isNodeReadable, tapNodeBody } from './node-body-tap.js';

/*
 * The two middlewares instrument() adds to a Bedrock Runtime client's stack (see ../bedrock.ts):
 * one spans the logical request (`send()`, retries included), one
 * each HTTP attempt. An attempt goes through the same seam as a fetch: prepareRequest() and the
 * protocols recognise it, a RequestRecord times it from the first attempt, the protocol's reader
 * reads the body through a RecordSink, config.recorder records it.
 */

export type Handler = (args: { request?: unknown; input?: unknown }) => Promise<{ response?: unknown; output?: unknown }>;
export type Middleware = (next: Handler, context: object) => Handler;

/** The HttpRequest the SDK sends (@smithy/protocol-http), as far as it is read here. */
interface HttpRequestLike {
  readonly method?: string;
  readonly protocol?: string;
  readonly hostname?: string;
  readonly port?: number;
  readonly path?: string;
  readonly query?: Record<string, string | string[] | null>;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

/** The HttpResponse the SDK's handler returns. */
interface HttpResponseLike {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  body: unknown;
}

/** One logical request (one `send()`), shared by its attempts through the SDK's handler context. */
interface RequestState {
  record: RequestRecord | undefined;
  /** `send()` has not settled: an ending is kept for it to decide (the SDK may retry). */
  pending: boolean;
  /** How the latest attempt (or its body, read while `send()` was pending) ended: kept while the SDK may retry. */
  ending: Ending | undefined;
  readonly signal: AbortSignal | undefined;
  /** Ends the request as the app stopping: set while a tapped body is open. */
  stopped: ((at: number) => void) | undefined;
}

const states = new WeakMap<object, RequestState>();

/** Ends the request now, or keeps the ending for `send()` to decide while it has not settled. */
function end(state: RequestState, ending: Ending): void {
  if (state.pending) state.ending = ending;
  else state.record?.finish(ending.outcome, ending.errorType, ending.at);
}

function signalOf(context: object): AbortSignal | undefined {
  const signal = (context as { __smithy_context?: { abortSignal?: unknown } }).__smithy_context?.abortSignal;
  return typeof (signal as AbortSignal | undefined)?.aborted === 'boolean' ? (signal as AbortSignal) : undefined;
}

/** Outermost: opens the request's state, and ends its record when the SDK gives up. */
export function requestMiddleware(): Middleware {
  return (next, context) => async (args) => {
    const state: RequestState = { record: undefined, pending: true, ending: undefined, signal: signalOf(context), stopped: undefined };
    states.set(context, state);
    let result: Awaited<ReturnType<Handler>>;
    try {
      result = await next(args);
    } catch (error) {
      settle(state, error);
      throw error;
    }
    settle(state, undefined);
    if (state.stopped !== undefined) watchStream(result.output, state);
    return result;
  };
}

/**
 * Sees the app stop reading the output's event stream early (a `break`, a `return` or a throw in
 * its loop): the SDK then leaves the HTTP stream open and unread, so the body never says so. The
 * SDK's own stream object is kept (its iterator gets a `return` that reports, then does what it did).
 */
function watchStream(output: unknown, state: RequestState): void {
  try {
    if (typeof output !== 'object' || output === null) return;
    for (const value of Object.values(output)) {
      const iterable = value as { [Symbol.asyncIterator]?: () => AsyncIterator<unknown> } | null;
      const iterate = iterable?.[Symbol.asyncIterator];
      if (typeof iterate !== 'function') continue;
      iterable![Symbol.asyncIterator] = function meteredIterator(this: unknown) {
        const iterator = iterate.call(this);
        const done = iterator.return;
        iterator.return = function meteredReturn(this: unknown, ...args: [unknown?]) {
          try {
            state.stopped?.(performance.now());
          } catch (error) {
            reportInternalError('ending a Bedrock stream', error);
          }
          return done === undefined ? Promise.resolve({ done: true, value: args[0] }) : done.apply(this, args);
        };
        return iterator;
      };
      return;
    }
  } catch (error) {
    reportInternalError('watching a Bedrock stream', error);
  }
}

/** `send()` settled: an ending kept for it ends the record; a failure with none is classified. */
function settle(state: RequestState, error: unknown): void {
  try {
    state.pending = false;
    const record = state.record;
    if (record === undefined || record.finished) return;
    const ending = state.ending;
    if (ending !== undefined && (error === undefined || ending.outcome !== 'success')) record.finish(ending.outcome, ending.errorType, ending.at);
    else if (error !== undefined) {
      // The SDK failed after a 2xx whose body had not ended (it could not read it).
      const failure = classifyFetchError(error, state.signal, 0, undefined);
      record.finish(failure.outcome, failure.errorType ?? OTHER, performance.now());
    }
  } catch (failure) {
    reportInternalError('ending a Bedrock request', failure);
  }
}

/** Innermost: one HTTP attempt, its status, and its body read through a tap. */
export function attemptMiddleware(config: MeterConfig): Middleware {
  return (next, context) => async (args) => {
    let metered: Metered | undefined;
    try {
      metered = beginAttempt(config, context, args.request as HttpRequestLike | undefined);
    } catch (error) {
      reportInternalError('preparing a Bedrock request', error);
    }
    if (metered === undefined) return next(args);
    let result: Awaited<ReturnType<Handler>>;
    try {
      result = await next(args);
    } catch (error) {
      failedAttempt(config, metered, error);
      throw error;
    }
    try {
      readResponse(config, metered, result.response as HttpResponseLike | undefined);
    } catch (error) {
      reportInternalError('tapping a Bedrock response', error);
      end(metered.state, { outcome: 'success', errorType: undefined, at: performance.now() });
    }
    return result;
  };
}

interface Metered {
  readonly state: RequestState;
  readonly record: RequestRecord;
  readonly prepared: ReturnType<typeof prepareRequest>;
  readonly attemptStart: number;
}

/** Describes an attempt through the protocols; undefined for one no protocol serves. */
function beginAttempt(config: MeterConfig, context: object, request: HttpRequestLike | undefined): Metered | undefined {
  if (request === undefined || typeof request.hostname !== 'string') return undefined;
  const prepared = prepareRequest(config, urlOf(request), { method: request.method ?? 'GET', headers: request.headers ?? {}, body: jsonText(request.body) });
  const described = prepared.described;
  if (described === undefined) return undefined;
  let state = states.get(context);
  if (state === undefined) {
    // No request middleware above (a stack that lost it): each attempt is its own request.
    state = { record: undefined, pending: false, ending: undefined, signal: signalOf(context), stopped: undefined };
  }
  let record = state.record;
  if (record === undefined || record.finished) {
    record = new RequestRecord(prepared.attributes, described.request.stream, performance.now(), config.recorder);
    record.estimatedInputTokens = described.request.estimatedInputTokens;
    state.record = record;
    config.recorder.requestStarted(prepared.attributes);
  }
  // A retry: what ended the attempt before it was not the end of the request.
  state.ending = undefined;
  return { state, record, prepared, attemptStart: performance.now() };
}

function failedAttempt(config: MeterConfig, metered: Metered, error: unknown): void {
  try {
    const now = performance.now();
    const failure = classifyFetchError(error, metered.state.signal, now - metered.attemptStart, undefined);
    config.recorder.attempt(metered.prepared.attributes, undefined, failure.errorType ?? 'cancelled');
    end(metered.state, { outcome: failure.outcome, errorType: failure.errorType, at: now });
  } catch (failure) {
    reportInternalError('recording a failed Bedrock attempt', failure);
  }
}

function readResponse(config: MeterConfig, metered: Metered, response: HttpResponseLike | undefined): void {
  const { state, record, prepared } = metered;
  const now = performance.now();
  if (response === undefined || typeof response.statusCode !== 'number') {
    end(state, { outcome: 'success', errorType: undefined, at: now });
    return;
  }
  const status = response.statusCode;
  config.recorder.attempt(prepared.attributes, status, undefined);
  record.headersAt = now;
  config.recorder.responseHeaders(record, headersOf(response.headers));
  if (status < 200 || status > 299) {
    // The SDK reads the error and decides whether to retry (throttling, 5xx): end() keeps this
    // until send() settles.
    end(state, { outcome: 'error', errorType: String(status), at: now });
    return;
  }
  const body = response.body;
  if (body === undefined || body === null) {
    end(state, { outcome: 'success', errorType: undefined, at: now });
    return;
  }
  const { protocol } = prepared.described!;
  const contentType = (response.headers['content-type'] ?? '').toLowerCase();
  const sink = new RecordSink(record, config.admitErrorCode);
  let reader: BodyReader;
  if (protocol.messages !== undefined && contentType.includes(BINARY_EVENT_STREAM)) {
    record.streaming = true;
    reader = createEventStreamReader(record, protocol.messages(sink), sink);
  } else {
    record.streaming = false;
    reader = createJsonReader(protocol, sink);
  }
  const signal = state.signal;
  const timedOut = (): boolean => abortedByTimeout(signal, performance.now() - metered.attemptStart, undefined);
  if (isNodeReadable(body)) {
    const tap = tapNodeBody(body, reader, (ending) => end(state, ending), signal, timedOut);
    state.stopped = tap.stop;
  } else if (body instanceof ReadableStream) {
    // A fetch-based handler (FetchHttpHandler): the fetch tap. It ends the record itself, so a
    // retry after a failure it saw counts as a request of its own.
    response.body = tapBody(new Response(body as ReadableStream<Uint8Array>, { status, headers: response.headers }), reader, record, signal, timedOut).body;
  } else {
    warnOnce('bedrock-body', 'a Bedrock response body of an unknown kind was not read: the request is recorded without its stream');
    end(state, { outcome: 'success', errorType: undefined, at: now });
  }
}

/** The request's URL, as fetch would have it. */
function urlOf(request: HttpRequestLike): string {
  const port = request.port === undefined ? '' : `:${request.port}`;
  let query = '';
  for (const [key, value] of Object.entries(request.query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      query += `${query === '' ? '?' : '&'}${encodeURIComponent(key)}${v === null ? '' : `=${encodeURIComponent(v)}`}`;
    }
  }
  return `${request.protocol ?? 'https:'}//${request.hostname}${port}${request.path ?? '/'}${query}`;
}

/** The response headers as fetch's Headers, without HTTP/2's pseudo-headers (`:status`), which Headers refuses. */
function headersOf(raw: Record<string, string>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (name.charCodeAt(0) === 58 /* : */ || typeof value !== 'string') continue;
    try {
      headers.append(name, value);
    } catch {
      // A name or value fetch would not have let through either.
    }
  }
  return headers;
}

const utf8 = new TextDecoder();

/**
 * The body as JSON text for the protocols, when it is JSON: a string, or bytes starting with `{`.
 * Bytes are decoded, never stringified (the SDK warns when its body adapter is used as a string).
 */
function jsonText(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array && body[0] === 123 /* { */) return utf8.decode(body);
  return undefined;
}
