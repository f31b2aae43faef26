import { warnOnce } from '../diag.js';
import type { EventReader } from '../protocols/protocol.js';
import type { RequestRecord } from '../record.js';
import { ERROR_NOT_EVENT_STREAM } from '../semconv.js';
import type { BodyReader } from './body-reader.js';
import type { RecordSink } from './record-sink.js';
import { BlockSplitter } from './sse-blocks.js';
import { hasData } from './sse-events.js';

/** What the SSE reader needs beyond the record, the protocol's event reader and the sink. */
export interface SseReaderOptions {
  /**
   * inferometer asked for usage on the app's behalf: the app gets what the protocol's reader
   * returns for each block (the usage it asked for cut out), not the bytes as they came.
   */
  readonly hideUsage: boolean;
  /** While usage is hidden, an event under way is held back from shortly before this text on. */
  readonly cutMarker: string | undefined;
  /**
   * The response said it is an event stream (`text/event-stream`). A body that says otherwise
   * and holds no event is `not_event_stream`; one that says so is an interrupted stream.
   */
  readonly declaredEventStream: boolean;
}

const STREAMING: TextDecodeOptions = { stream: true };
/**
 * How much of an event still under way is held back when usage is hidden (characters): the tail
 * in which what the protocol cuts out sits (OpenAI chat puts the member it cuts last, followed
 * at most by a member of a few hundred characters). Everything before it reaches
 * the app as it arrives, so an event of many megabytes is not held back until its end.
 */
const HELD_BACK_CHARS = 16 * 1024;
/**
 * An event under way that holds the cut marker is held back from this many characters before it
 * on (where the comma a cut takes with a member sits, on its line or the one before): a server
 * that puts the member first still has it cut out of a long event.
 */
const MARKER_MARGIN = 256;
const encoder = new TextEncoder();

/**
 * Reads an SSE body of any protocol as it arrives: decodes the bytes, cuts the text into event
 * blocks ({@link BlockSplitter}), stamps the first event (`time_to_first_chunk`), and hands each
 * block to the protocol's event reader, which reports output, usage, the model, the end and
 * errors to the sink. The app gets the bytes as they came, or, when usage is hidden, the blocks
 * as the protocol's reader returns them.
 */
export function createSseReader(record: RequestRecord, events: EventReader, sink: RecordSink, options: SseReaderOptions): BodyReader {
  const { hideUsage, cutMarker, declaredEventStream } = options;
  const decoder = new TextDecoder();
  const splitter = new BlockSplitter();
  /** Whether the body held any bytes, and any SSE event (a block with a data field). */
  let sawBytes = false;
  let sawEvent = false;
  /** Text for the app from the blocks of the current chunk, when hiding usage. */
  let out = '';

  /** One complete block: returns what the app gets for it when usage is hidden. */
  const read = (block: string, lfOnly: boolean): string => {
    if (!sawEvent && hasData(block)) {
      sawEvent = true;
      if (Number.isNaN(record.firstChunkAt)) record.firstChunkAt = sink.at;
    }
    return events.read(block, lfOnly);
  };

  const onBlock = (block: string, lfOnly: boolean, taken: number): void => {
    const forward = read(block, lfOnly);
    if (hideUsage) out += taken === 0 ? forward : rest(block, forward, taken);
  };

  const takeOut = (): Uint8Array | null => {
    if (out === '') return null;
    const bytes = encoder.encode(out);
    out = '';
    return bytes;
  };

  return {
    push(chunk, at) {
      sink.at = at;
      sawBytes ||= chunk.byteLength > 0;
      splitter.push(decoder.decode(chunk, STREAMING), onBlock);
      if (!hideUsage) return chunk;
      // An event longer than the read-ahead: hand the app its head now, as the bare SDK would
      // have it, and keep back only the tail, where what the protocol cuts out sits.
      if (cutMarker !== undefined) out += splitter.takeAhead(HELD_BACK_CHARS, cutMarker, MARKER_MARGIN);
      // Line ends that belong to no event (the LF of a CRLF that ended the last one) go on at once:
      // the app's decoder may be waiting on them to see that event end.
      out += splitter.takeIdle();
      return takeOut();
    },
    end(at) {
      sink.at = at;
      const tail = decoder.decode();
      if (tail !== '') splitter.push(tail, onBlock);
      // The app's SSE decoder dispatches an event the stream ended in the middle of: so do we.
      const taken = splitter.taken;
      const last = splitter.flush();
      if (last !== '') {
        // Read it as ended, but forward it as it came (without the empty line that ends it here).
        const forward = read(`${last}\n\n`, false);
        if (hideUsage && forward !== '') out += taken === 0 ? forward.slice(0, -2) : rest(last, forward.slice(0, -2), taken);
      }
      events.end();
      // A body that is not SSE and holds not one event (JSON, text or HTML for a streamed request):
      // the app's stream yielded nothing of what it asked for.
      if (!declaredEventStream && sawBytes && !sawEvent && sink.errorType === undefined) sink.errorType = ERROR_NOT_EVENT_STREAM;
      return hideUsage ? takeOut() : null;
    },
    get complete() {
      return sink.completed;
    },
    get errorType() {
      return sink.errorType;
    },
  };
}

/**
 * What is left to hand the app of a block whose first `taken` characters it already has, given
 * what it should get of the whole block (`forward`). If `forward` changed the block only after
 * them, the rest of `forward`; else (something to cut out, or a block to leave out, that lay in
 * what the app already has) the rest of the block as it came, and one diag warning.
 */
function rest(block: string, forward: string, taken: number): string {
  if (forward === block) return block.slice(taken);
  if (forward.length >= taken && forward.slice(0, taken) === block.slice(0, taken)) return forward.slice(taken);
  warnOnce('usage-cut-late', `an event over ${HELD_BACK_CHARS} characters carried usage data before its last ${HELD_BACK_CHARS}: it reached the app as the server sent it`);
  return block.slice(taken);
}
