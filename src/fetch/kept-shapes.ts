import type { Protocol } from '../protocols/protocol.js';
import { RequestRecord } from '../record.js';
import { tapBody } from '../stream/body-tap.js';
import { RecordSink } from '../stream/record-sink.js';
import { createSseReader } from '../stream/sse-reader.js';

/*
 * Why one stream's objects are kept for the process's life.
 *
 * V8's optimized code for the methods that run per chunk (the tap's read callback, the SSE
 * reader's push, a protocol reader's scan, the sink's output, the gap histogram's add) depends on
 * the hidden class (map) of the objects they are called on. A class instance's map is the last of
 * the transitions its field initializers make from the constructor's initial map, and V8 holds
 * such maps only weakly: once no instance is left (between two streams of an app that streams one
 * at a time), a full GC collects them, and with them every piece of optimized code that names
 * them ("embedded weak objects cleared" in node --trace-deopt). The next stream then runs those
 * methods unoptimized (a boxed number allocated for each fractional millisecond they store) until
 * V8 optimizes them again. V8's memory reducer runs a full GC when an app goes idle, so an app that
 * streams now and then meets this on most streams; the bench's CPU scenario forces a full GC
 * before each stream, and met it on every one (bench/README).
 *
 * Kept: the objects of one short stream (a protocol's `sampleReads`), read through the real tap
 * and SSE reader, so that they hold the maps a stream's objects end up with (a field's map
 * changes the first time it is given a fractional number), not the maps they start with. They
 * hold no app data: about 2 KB per process, made when the first stream of such a protocol is read.
 */

let kept: { readonly body: Response; readonly record: RequestRecord } | undefined;

/** Reads `protocol`'s sample stream through the tap and keeps its objects, once (see above); cheap to call for every stream. */
export function keepStreamShapes(protocol: Protocol): void {
  if (kept !== undefined || protocol.sampleReads === undefined) return;
  const encoder = new TextEncoder();
  const reads = protocol.sampleReads.map((read) => encoder.encode(read));
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = reads.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
  const record = new RequestRecord({}, true, performance.now(), { requestFinished() {} });
  const sink = new RecordSink(record, (code) => code);
  const reader = createSseReader(record, protocol.events(sink, true), sink, { hideUsage: true, cutMarker: protocol.cutMarker, declaredEventStream: true, ownsChunks: false });
  const tapped = tapBody(new Response(body, { headers: { 'content-type': 'text/event-stream' } }), reader, record, undefined, () => false);
  kept = { body: tapped, record };
}

/** The kept stream's record (undefined before the first stream), for the tests. */
export function keptStreamRecord(): RequestRecord | undefined {
  return kept?.record;
}
