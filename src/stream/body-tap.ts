import { reportInternalError } from '../diag.js';
import type { RequestRecord } from '../record.js';
import { ERROR_STREAM_INTERRUPTED } from '../semconv.js';
import type { BodyReader } from './body-reader.js';

/**
 * How far ahead of the app the tap reads, in bytes. Reading ahead is what timestamps bytes when
 * they arrive rather than when the app asks for them (an app that starts iterating 200 ms late
 * still gets the true time to first token); the bound keeps backpressure: a stream the app
 * abandons is read at most this far, never downloaded to the end.
 */
export const READ_AHEAD_BYTES = 64 * 1024;

/** Ends the record of a stream that the app dropped without reading it to the end or cancelling it. */
const abandoned = new FinalizationRegistry<RequestRecord>((record) => {
  record.finish('cancelled', undefined, performance.now());
});

/**
 * Returns a Response with the same status, headers and body bytes as `response`, whose body is
 * read through `reader` as it arrives. The record is finished exactly once: when the body ends,
 * fails, is cancelled by the app, or is garbage-collected unread.
 */
export function tapBody(response: Response, reader: BodyReader, record: RequestRecord, signal: AbortSignal | undefined): Response {
  const source = response.body!.getReader();
  let lastByteAt = Number.NaN;
  let failure: unknown;
  let failed = false;

  const finish = (outcome: 'success' | 'error' | 'cancelled', errorType: string | undefined, at: number): void => {
    abandoned.unregister(record);
    record.finish(outcome, errorType, at);
  };

  /** The body ended or failed: what the reader saw decides the outcome. */
  const settle = (at: number, interrupted: boolean): void => {
    if (reader.errorType !== undefined) finish('error', reader.errorType, at);
    else if (reader.complete) finish('success', undefined, Number.isNaN(lastByteAt) ? at : lastByteAt);
    else if (interrupted && signal?.aborted === true) finish('cancelled', undefined, at);
    else finish('error', ERROR_STREAM_INTERRUPTED, at);
  };

  let controller!: ReadableStreamDefaultController<Uint8Array>;

  // Per chunk: one read of the source, one timestamp, the reader, one enqueue. The two
  // callbacks are made once per stream, not once per chunk.
  const onRead = ({ done, value }: ReadableStreamReadResult<Uint8Array>): void => {
    const now = performance.now();
    let out: Uint8Array | null = null;
    try {
      out = done ? reader.end(now) : reader.push(value, now);
    } catch (error) {
      reportInternalError('reading a response body', error);
      out = done ? null : value; // the app still gets its bytes
    }
    if (out !== null && out.byteLength > 0) controller.enqueue(out);
    if (done) {
      controller.close();
      settle(now, false);
    } else {
      lastByteAt = now;
    }
  };

  const onReadFailed = (error: unknown): void => {
    settle(performance.now(), true);
    failed = true;
    failure = error;
    if (controller.desiredSize === READ_AHEAD_BYTES) controller.error(error);
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        if (failed) {
          // Hand the app every chunk read before the failure, then the failure itself, as the
          // original body would have.
          if (controller.desiredSize === READ_AHEAD_BYTES) controller.error(failure);
          return;
        }
        return source.read().then(onRead, onReadFailed);
      },
      cancel(reason) {
        // The app stopped reading: a break, an abort, or the SDK closing a finished stream
        // (openai v7 cancels the body after [DONE], which is success).
        if (reader.complete || reader.errorType !== undefined) settle(performance.now(), false);
        else finish('cancelled', undefined, performance.now());
        return source.cancel(reason);
      },
    },
    { highWaterMark: READ_AHEAD_BYTES, size: (chunk) => chunk.byteLength },
  );

  abandoned.register(body, record, record);
  const tapped = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // Keep what the SDK and the app can read of the original (the Response constructor cannot set these).
  Object.defineProperty(tapped, 'url', { value: response.url });
  Object.defineProperty(tapped, 'redirected', { value: response.redirected });
  return tapped;
}
