import { reportInternalError, warnOnce } from '../diag.js';
import type { Outcome } from '../record.js';
import { ERROR_STREAM_INTERRUPTED, ERROR_TIMEOUT } from '../semconv.js';
import type { BodyReader } from '../stream/body-reader.js';

/** How a body (or an attempt) ended. */
export interface Ending {
  readonly outcome: Outcome;
  readonly errorType: string | undefined;
  readonly at: number;
}

/** A Node Readable (IncomingMessage, ClientHttp2Stream), as far as the tap uses it. */
export interface NodeReadableLike {
  push(chunk: unknown, encoding?: string): boolean;
  once(event: 'close', listener: () => void): unknown;
  readonly errored?: unknown;
  readonly readableEnded?: boolean;
  readonly readableLength?: number;
  readonly readableBuffer?: unknown;
}

export function isNodeReadable(body: unknown): body is NodeReadableLike {
  const b = body as Partial<NodeReadableLike>;
  return typeof b.push === 'function' && typeof b.once === 'function' && typeof (body as { pipe?: unknown }).pipe === 'function';
}

/**
 * Reads a Node Readable body (the SDK's own IncomingMessage or ClientHttp2Stream) as its bytes
 * arrive, by observing its `push()`: the handler pushes every chunk from the socket through it,
 * whether or not anyone reads yet. The app's body is the same object, with the same bytes,
 * events, errors and backpressure (nothing sits in between). Bytes pushed before the tap was set
 * (the first message often comes in the same packet as the headers, before the SDK's handler
 * resolves) are read from the body's buffer, without taking them, at the tap's time. The request
 * ends once: when the body ends (`push(null)`), or when it closes before that (an error, the
 * app's abort, a break out of the stream, a timeout).
 */
export function tapNodeBody(
  body: NodeReadableLike,
  reader: BodyReader,
  onEnd: (ending: Ending) => void,
  signal: AbortSignal | undefined,
  timedOut: () => boolean,
): { stop(at: number): void } {
  let done = false;
  let lastByteAt = Number.NaN;

  /** The body ended (`push(null)`), closed before that, or the app stopped reading it. */
  const finish = (at: number, how: 'ended' | 'closed' | 'stopped'): void => {
    done = true;
    const error = body.errored as { name?: unknown } | null | undefined;
    if (reader.errorType !== undefined) onEnd({ outcome: 'error', errorType: reader.errorType, at });
    else if (reader.complete) onEnd({ outcome: 'success', errorType: undefined, at: Number.isNaN(lastByteAt) ? at : lastByteAt });
    else if (error?.name === 'TimeoutError' || (signal?.aborted === true && timedOut())) onEnd({ outcome: 'error', errorType: ERROR_TIMEOUT, at });
    // The app's abort (the handler then closes the stream), a break out of the SDK's stream, or a
    // body destroyed without an error.
    else if (signal?.aborted === true || how === 'stopped' || (how === 'closed' && (error === null || error === undefined))) {
      onEnd({ outcome: 'cancelled', errorType: undefined, at });
    } else onEnd({ outcome: 'error', errorType: ERROR_STREAM_INTERRUPTED, at });
  };
  const stop = (at: number): void => {
    if (!done) finish(at, 'stopped');
  };
  const ended = (at: number): void => {
    reader.end(at);
    finish(at, 'ended');
  };

  const now = performance.now();
  for (const chunk of buffered(body)) {
    lastByteAt = now;
    reader.push(chunk, now);
  }
  const push = body.push;
  body.push = function meteredPush(this: unknown, chunk: unknown, encoding?: string): boolean {
    if (!done) {
      try {
        const at = performance.now();
        if (chunk === null) ended(at);
        else if (chunk instanceof Uint8Array) {
          lastByteAt = at;
          reader.push(chunk, at);
        }
      } catch (error) {
        reportInternalError('reading a Bedrock response body', error);
      }
    }
    return push.call(this, chunk, encoding);
  };
  body.once('close', () => {
    if (done) return;
    try {
      // Ended before the tap was set (a body that came whole with its headers), or cut short.
      if (body.readableEnded === true) ended(performance.now());
      else finish(performance.now(), 'closed');
    } catch (error) {
      reportInternalError('ending a Bedrock response body', error);
    }
  });
  return { stop };
}

/** The chunks a Readable holds unread (`readableBuffer`: an array, or a list on older Node), without taking them. */
function buffered(body: NodeReadableLike): Uint8Array[] {
  if (!(Number(body.readableLength) > 0)) return [];
  const held = body.readableBuffer as Iterable<unknown> | { head?: { data: unknown; next: unknown } | null } | undefined;
  const chunks: Uint8Array[] = [];
  if (held !== undefined && held !== null && typeof (held as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const chunk of held as Iterable<unknown>) if (chunk instanceof Uint8Array) chunks.push(chunk);
  } else {
    for (let node = (held as { head?: { data: unknown; next: unknown } | null } | undefined)?.head; node; node = node.next as typeof node) {
      if (node.data instanceof Uint8Array) chunks.push(node.data);
    }
  }
  if (chunks.length === 0) warnOnce('bedrock-buffer', "could not read the bytes a Bedrock response held before it was tapped: its first events are not timed");
  return chunks;
}
