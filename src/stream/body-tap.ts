import { reportInternalError } from '../diag.js';
import type { RequestRecord } from '../record.js';
import { ERROR_STREAM_INTERRUPTED, ERROR_TIMEOUT } from '../semconv.js';
import type { BodyReader } from './body-reader.js';

/**
 * How far ahead of the app the tap reads, in bytes. Reading ahead is what timestamps bytes when
 * they arrive rather than when the app asks for them (an app that starts iterating 200 ms late
 * still gets the true time to first token); the bound keeps backpressure: a stream the app
 * abandons is read at most this far, never downloaded to the end.
 */
export const READ_AHEAD_BYTES = 64 * 1024;

interface Abandoned {
  readonly record: RequestRecord;
  readonly reader: BodyReader;
  readonly source: ReadableStreamDefaultReader<Uint8Array>;
  /** When the body's last byte so far arrived (NaN: none yet). */
  readonly read: { lastByteAt: number };
}

/**
 * A body the app dropped without reading it to the end or cancelling it: end its record and
 * release its connection, as undici does for an unread body of its own.
 */
const abandoned = new FinalizationRegistry<Abandoned>(({ record, reader, source, read }) => {
  // Settled on what was read, as a cancel() is: an answer whose terminal event arrived before the
  // app let go of it is the success it was (billed whole), whenever the collector runs.
  const now = performance.now();
  if (reader.errorType !== undefined) record.finish('error', reader.errorType, now);
  else if (reader.complete) record.finish('success', undefined, Number.isNaN(read.lastByteAt) ? now : read.lastByteAt);
  else record.finish('cancelled', undefined, now);
  source.cancel().catch(() => undefined);
});

/**
 * Returns a Response with the same status, headers and body bytes as `response`, whose body is
 * read through `reader` as it arrives. The record is finished exactly once: when the body ends,
 * fails, is cancelled by the app, or is garbage-collected unread. A body cut short by an abort
 * of `signal` is a cancellation, or a timeout where `timedOut()` says the abort was one.
 */
export function tapBody(
  response: Response,
  reader: BodyReader,
  record: RequestRecord,
  signal: AbortSignal | undefined,
  timedOut: () => boolean,
): Response {
  const source = response.body!.getReader();
  /** Held by the registry too (it holds no reference to the body). */
  const progress = { lastByteAt: Number.NaN };
  let failure: unknown;
  let failed = false;
  /** The source said it is done: the body is closed, and nothing reads it again. */
  let ended = false;
  /** A read of the source is under way (pull() does not wait for it; see below). */
  let reading = false;
  /** The app cancelled the body: reads still in flight end quietly. */
  let cancelled = false;
  // Held weakly by the read callbacks: a read pending on the socket must not keep the app's
  // body alive, or a dropped stream would never be collected (and never end).
  let controllerRef!: WeakRef<ReadableStreamDefaultController<Uint8Array>>;
  /**
   * Held strongly while the app waits on a read of the body (pull() is called only then: the
   * queue's high-water mark is 0): the app's pending read is then reachable from the socket, as
   * with the bare body. Without it, an SDK that keeps no other path to the body while it awaits a
   * read (@google/genai) would see its stream collected mid-read, and its loop never resume.
   */
  let waitedOn: ReadableStreamDefaultController<Uint8Array> | undefined;

  const finish = (outcome: 'success' | 'error' | 'cancelled', errorType: string | undefined, at: number): void => {
    abandoned.unregister(record);
    record.finish(outcome, errorType, at);
  };

  /** The body ended or failed: what the reader saw decides the outcome. */
  const settle = (at: number, interrupted: boolean): void => {
    if (reader.errorType !== undefined) finish('error', reader.errorType, at);
    else if (reader.complete) finish('success', undefined, Number.isNaN(progress.lastByteAt) ? at : progress.lastByteAt);
    else if (interrupted && signal?.aborted === true) {
      if (timedOut()) finish('error', ERROR_TIMEOUT, at);
      else finish('cancelled', undefined, at);
    }
    else finish('error', ERROR_STREAM_INTERRUPTED, at);
  };

  /** Bytes queued for the app and not yet read by it (the high-water mark is 0). */
  const queued = (controller: ReadableStreamDefaultController<Uint8Array>): number => -(controller.desiredSize ?? 0);

  // Per chunk: one read of the source, one timestamp, the reader, one enqueue. The callbacks
  // are made once per stream, not once per chunk.
  const read = (): void => {
    reading = true;
    // The callbacks only touch the controller while the body is open; the catch is the last
    // guard that nothing of ours ever surfaces as an unhandled rejection in the app.
    source.read().then(onRead, onReadFailed).catch((error: unknown) => reportInternalError('tapping a response body', error));
  };

  const onRead = ({ done, value }: ReadableStreamReadResult<Uint8Array>): void => {
    reading = false;
    // (Read here, not only written: a variable only written is removed as dead by the bundler.)
    const held = waitedOn;
    waitedOn = undefined;
    // Set before the last enqueue, which may call pull() at once: a closed body is not read again
    // (reading it would see `done` a second time and close the controller twice).
    if (done) ended = true;
    const now = performance.now();
    let out: Uint8Array | null = null;
    try {
      out = done ? reader.end(now) : reader.push(value, now);
    } catch (error) {
      reportInternalError('reading a response body', error);
      out = done ? null : value; // the app still gets its bytes
    }
    const controller = held ?? controllerRef.deref();
    if (controller === undefined || cancelled) return; // collected (the registry ends the record) or cancelled
    if (!done) progress.lastByteAt = now;
    if (out !== null && out.byteLength > 0) controller.enqueue(out); // a read waiting gets it at once
    if (done) {
      controller.close();
      settle(now, false);
      return;
    }
    // Read on ahead of the app, up to the bound: bytes are timestamped when they arrive, not when
    // the app asks for them; beyond it, the next read waits for the app (backpressure).
    if (!reading && queued(controller) < READ_AHEAD_BYTES) read();
  };

  const onReadFailed = (error: unknown): void => {
    reading = false;
    waitedOn = undefined;
    settle(performance.now(), true);
    failed = true;
    failure = error;
    const controller = controllerRef.deref();
    if (!cancelled && controller !== undefined && queued(controller) === 0) controller.error(error);
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controllerRef = new WeakRef(controller);
        read(); // from the start: the first byte is timestamped when it arrives
      },
      pull(controller) {
        // Called only when the app waits on a read (the queue is empty).
        if (failed) {
          // Hand the app every chunk read before the failure, then the failure itself, as the
          // original body would have.
          controller.error(failure);
          return undefined;
        }
        waitedOn = controller;
        // Not returned: a stream that waits on a read pending on the socket is reachable from
        // the socket, and a dropped stream could then never be collected.
        if (!reading && !ended) read();
        return undefined;
      },
      cancel(reason) {
        cancelled = true;
        waitedOn = undefined;
        // The app stopped reading: a break, an abort, or the SDK closing a finished stream
        // (openai v7 cancels the body after the terminal event, which is success).
        if (reader.complete || reader.errorType !== undefined) settle(performance.now(), false);
        else finish('cancelled', undefined, performance.now());
        return source.cancel(reason);
      },
    },
    // A high-water mark of 0: pull() means the app waits; the read-ahead is bounded above.
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );

  abandoned.register(body, { record, reader, source, read: progress }, record);
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
