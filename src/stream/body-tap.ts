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

/**
 * What the registry needs to end the record of a body the app dropped: it holds no reference to
 * the body (the registry holds it strongly, so one would keep the body from ever being collected).
 */
class Abandoned {
  readonly record: RequestRecord;
  readonly reader: BodyReader;
  readonly source: ReadableStreamDefaultReader<Uint8Array>;
  /** When the body's last byte so far arrived (NaN: none yet). */
  lastByteAt = Number.NaN;

  constructor(record: RequestRecord, reader: BodyReader, source: ReadableStreamDefaultReader<Uint8Array>) {
    this.record = record;
    this.reader = reader;
    this.source = source;
  }
}

/**
 * A body the app dropped without reading it to the end or cancelling it: end its record and
 * release its connection, as undici does for an unread body of its own.
 */
const abandoned = new FinalizationRegistry<Abandoned>(({ record, reader, source, lastByteAt }) => {
  // Settled on what was read, as a cancel() is: an answer whose terminal event arrived before the
  // app let go of it is the success it was (billed whole), whenever the collector runs.
  const now = performance.now();
  if (reader.errorType !== undefined) record.finish('error', reader.errorType, now);
  else if (reader.complete) record.finish('success', undefined, Number.isNaN(lastByteAt) ? now : lastByteAt);
  else record.finish('cancelled', undefined, now);
  source.cancel().catch(() => undefined);
});

function chunkSize(chunk: Uint8Array): number {
  return chunk.byteLength;
}

/** A high-water mark of 0: pull() means the app waits; the read-ahead is bounded above. */
const STRATEGY: QueuingStrategy<Uint8Array> = { highWaterMark: 0, size: chunkSize };

/**
 * The underlying source of the tapped body, one object per stream: its methods are on the
 * prototype, and the two read callbacks are bound once, not made per chunk.
 */
class Tap implements UnderlyingDefaultSource<Uint8Array> {
  /** Also the registry's holdings. */
  readonly #state: Abandoned;
  readonly #signal: AbortSignal | undefined;
  readonly #timedOut: () => boolean;
  #failure: unknown;
  #failed = false;
  /** The source said it is done: the body is closed, and nothing reads it again. */
  #ended = false;
  /** A read of the source is under way (pull() does not wait for it; see below). */
  #reading = false;
  /** The app cancelled the body: reads still in flight end quietly. */
  #cancelled = false;
  // Held weakly by the read callbacks: a read pending on the socket must not keep the app's
  // body alive, or a dropped stream would never be collected (and never end).
  #controllerRef: WeakRef<ReadableStreamDefaultController<Uint8Array>> | undefined;
  /**
   * Held strongly while the app waits on a read of the body (pull() is called only then: the
   * queue's high-water mark is 0): the app's pending read is then reachable from the socket, as
   * with the bare body. Without it, an SDK that keeps no other path to the body while it awaits a
   * read (@google/genai) would see its stream collected mid-read, and its loop never resume.
   * (Never on `state`: the registry holds that strongly.)
   */
  #waitedOn: ReadableStreamDefaultController<Uint8Array> | undefined;
  readonly #readDone: (result: ReadableStreamReadResult<Uint8Array>) => void;
  readonly #readFailed: (error: unknown) => void;

  constructor(state: Abandoned, signal: AbortSignal | undefined, timedOut: () => boolean) {
    this.#state = state;
    this.#signal = signal;
    this.#timedOut = timedOut;
    this.#readDone = this.#onRead.bind(this);
    this.#readFailed = this.#onReadFailed.bind(this);
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controllerRef = new WeakRef(controller);
    this.#read(); // from the start: the first byte is timestamped when it arrives
  }

  pull(controller: ReadableStreamDefaultController<Uint8Array>): undefined {
    // Called only when the app waits on a read (the queue is empty).
    if (this.#failed) {
      // Hand the app every chunk read before the failure, then the failure itself, as the
      // original body would have.
      controller.error(this.#failure);
      return undefined;
    }
    this.#waitedOn = controller;
    // Not returned: a stream that waits on a read pending on the socket is reachable from
    // the socket, and a dropped stream could then never be collected.
    if (!this.#reading && !this.#ended) this.#read();
    return undefined;
  }

  cancel(reason: unknown): Promise<void> {
    this.#cancelled = true;
    this.#waitedOn = undefined;
    // The app stopped reading: a break, an abort, or the SDK closing a finished stream
    // (openai v7 cancels the body after the terminal event, which is success).
    const reader = this.#state.reader;
    if (reader.complete || reader.errorType !== undefined) this.#settle(performance.now(), false);
    else this.#finish('cancelled', undefined, performance.now());
    return this.#state.source.cancel(reason);
  }

  #finish(outcome: 'success' | 'error' | 'cancelled', errorType: string | undefined, at: number): void {
    const { record } = this.#state;
    abandoned.unregister(record);
    record.finish(outcome, errorType, at);
  }

  /** The body ended or failed: what the reader saw decides the outcome. */
  #settle(at: number, interrupted: boolean): void {
    const { reader, lastByteAt } = this.#state;
    if (reader.errorType !== undefined) this.#finish('error', reader.errorType, at);
    else if (reader.complete) this.#finish('success', undefined, Number.isNaN(lastByteAt) ? at : lastByteAt);
    else if (interrupted && this.#signal?.aborted === true) {
      if (this.#timedOut()) this.#finish('error', ERROR_TIMEOUT, at);
      else this.#finish('cancelled', undefined, at);
    }
    else this.#finish('error', ERROR_STREAM_INTERRUPTED, at);
  }

  // Per chunk: one read of the source, one timestamp, the reader, one enqueue.
  #read(): void {
    this.#reading = true;
    // Both callbacks catch all they throw, so the promise this returns never rejects: nothing of
    // ours ever surfaces as an unhandled rejection in the app.
    void this.#state.source.read().then(this.#readDone, this.#readFailed);
  }

  #onRead({ done, value }: ReadableStreamReadResult<Uint8Array>): void {
    try {
      this.#reading = false;
      const held = this.#waitedOn;
      this.#waitedOn = undefined;
      // Set before the last enqueue, which may call pull() at once: a closed body is not read again
      // (reading it would see `done` a second time and close the controller twice).
      if (done) this.#ended = true;
      const now = performance.now();
      let out: Uint8Array | null = null;
      try {
        out = done ? this.#state.reader.end(now) : this.#state.reader.push(value, now);
      } catch (error) {
        reportInternalError('reading a response body', error);
        out = done ? null : value; // the app still gets its bytes
      }
      const controller = held ?? this.#controllerRef!.deref();
      if (controller === undefined || this.#cancelled) return; // collected (the registry ends the record) or cancelled
      if (!done) this.#state.lastByteAt = now;
      if (out !== null && out.byteLength > 0) controller.enqueue(out); // a read waiting gets it at once
      if (done) {
        controller.close();
        this.#settle(now, false);
        return;
      }
      // Read on ahead of the app, up to the bound: bytes are timestamped when they arrive, not when
      // the app asks for them; beyond it, the next read waits for the app (backpressure).
      if (!this.#reading && queued(controller) < READ_AHEAD_BYTES) this.#read();
    } catch (error) {
      reportInternalError('tapping a response body', error);
    }
  }

  #onReadFailed(error: unknown): void {
    try {
      this.#reading = false;
      this.#waitedOn = undefined;
      this.#settle(performance.now(), true);
      this.#failed = true;
      this.#failure = error;
      const controller = this.#controllerRef!.deref();
      if (!this.#cancelled && controller !== undefined && queued(controller) === 0) controller.error(error);
    } catch (internal) {
      reportInternalError('tapping a response body', internal);
    }
  }
}

/** Bytes queued for the app and not yet read by it (the high-water mark is 0). */
function queued(controller: ReadableStreamDefaultController<Uint8Array>): number {
  return -(controller.desiredSize ?? 0);
}

/**
 * The tapped Response's own `headers`, `url` and `redirected` are the original's (the Response
 * constructor cannot set the last two; the headers are not copied), and so are its clones'.
 */
function keepOriginal(tapped: Response, headers: Headers, url: string, redirected: boolean): Response {
  Object.defineProperty(tapped, 'headers', { value: headers });
  Object.defineProperty(tapped, 'url', { value: url });
  Object.defineProperty(tapped, 'redirected', { value: redirected });
  Object.defineProperty(tapped, 'clone', { value: cloneTapped });
  return tapped;
}

/** The tapped Response holds no copy of the headers, and so neither would its clone. */
function cloneTapped(this: Response): Response {
  return keepOriginal(Response.prototype.clone.call(this), this.headers, this.url, this.redirected);
}

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
  const state = new Abandoned(record, reader, response.body!.getReader());
  const body = new ReadableStream<Uint8Array>(new Tap(state, signal, timedOut), STRATEGY);
  abandoned.register(body, state, record);
  // The headers are not copied (the app and the SDK read the original's, see keepOriginal), but
  // for the content type, which blob() and formData() read from the Response's own.
  const contentType = response.headers.get('content-type');
  const headers: [string, string][] | undefined = contentType === null ? undefined : [['content-type', contentType]];
  const tapped = new Response(body, { status: response.status, statusText: response.statusText, headers });
  return keepOriginal(tapped, response.headers, response.url, response.redirected);
}
