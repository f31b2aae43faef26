import { warnOnce } from '../diag.js';
import type { EventReader } from '../protocols/protocol.js';
import type { RequestRecord } from '../record.js';
import { ERROR_NOT_EVENT_STREAM } from '../semconv.js';
import type { BodyReader } from './body-reader.js';
import type { RecordSink } from './record-sink.js';
import { compose, withoutRanges } from './byte-cuts.js';
import { indexOfByte } from './bytes.js';
import { type BlockSink, BlockSplitter } from './sse-blocks.js';
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
  /**
   * The body's chunks were made for this read and nobody else holds them (a network response of
   * the platform's fetch): what is cut out may be cut out of them in place. Else (a Response an
   * app's own fetch built, whose chunks may be shared buffers) they are never written to.
   */
  readonly ownsChunks: boolean;
}

const STREAMING: TextDecodeOptions = { stream: true };
/** Decodes whole chunks of streams that have cut no character between reads (a U+FEFF after the start is text). */
const plain = new TextDecoder('utf-8', { ignoreBOM: true });
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
 * The ranges to cut out of the chunk being pushed (start, end, start, end, …), for every stream:
 * they are written and used within one push(), which nothing interleaves. One array per stream
 * kept the largest read's ranges for the stream's life (hundreds of numbers for a flooded read).
 */
const cuts: number[] = [];
/** The kinds the protocol's scan() gave the blocks of the chunk being pushed, for every stream (as {@link cuts}). */
const kinds: number[] = [];
/** The range scan() writes, for every stream (as {@link cuts}). */
const scanned = { start: 0, end: 0 };
const LF = 10;
const CR = 13;

/**
 * Reads an SSE body of any protocol as it arrives: decodes the bytes, cuts the text into event
 * blocks ({@link BlockSplitter}), stamps the first event (`time_to_first_chunk`), and hands each
 * block to the protocol's event reader, which reports output, usage, the model, the end and
 * errors to the sink. A read of whole events that the protocol knows by their bytes
 * ({@link EventReader.scan}) is read without being decoded. The app gets the bytes as they came,
 * or, when usage is hidden, the blocks as the protocol's reader returns them (cut in place where
 * it can).
 */
export function createSseReader(record: RequestRecord, events: EventReader, sink: RecordSink, options: SseReaderOptions): BodyReader {
  return new SseReader(record, events, sink, options);
}

/**
 * The state of one SSE body in one object (a class: its methods live once on the prototype, where
 * a dozen closures per stream held about 1 KB per open stream).
 */
class SseReader implements BodyReader, BlockSink {
  readonly #record: RequestRecord;
  readonly #events: EventReader;
  readonly #sink: RecordSink;
  readonly #hideUsage: boolean;
  readonly #cutMarker: string | undefined;
  readonly #declaredEventStream: boolean;
  readonly #ownsChunks: boolean;
  /** The protocol reads whole events in bytes too ({@link EventReader.scan}). */
  readonly #scans: boolean;
  /** Made at the first bytes that end inside a UTF-8 sequence (most streams never need one). */
  #decoder: TextDecoder | undefined = undefined;
  readonly #splitter = new BlockSplitter();
  /** Whether the body held any bytes, and any SSE event (a block with a data field). */
  #sawBytes = false;
  #sawEvent = false;
  /** Text for the app from the blocks of the current chunk, when hiding usage. */
  #out = '';
  /**
   * While hiding usage: the current chunk's text, when it can be handed on as its own bytes with
   * ranges cut out in place ({@link #inPlace}); undefined when it is handed on as text.
   */
  #text: string | undefined = undefined;
  /** Where the next block starts in {@link #text} (the ranges to cut out of it are in {@link cuts}). */
  #at = 0;
  /** The bytes of the text the splitter holds, when they are the last chunk's last bytes (see push()). */
  #carry: Uint8Array | undefined = undefined;
  /** The carry the current chunk's text continues, while {@link #text} is set. */
  #carried: Uint8Array | undefined = undefined;
  /** How many numbers of {@link cuts} are this chunk's. */
  #cutCount = 0;
  /**
   * The bytes of the event under way after a read taken in bytes (a read that ended inside an
   * event: a flooded stream's): while usage is hidden none of them reached the app yet. The byte
   * path reads the event whole when it ends; a read it leaves to the text path first hands them
   * to the splitter ({@link #unscan}). The splitter then holds nothing.
   */
  #byteCarry: Uint8Array | undefined = undefined;

  constructor(record: RequestRecord, events: EventReader, sink: RecordSink, options: SseReaderOptions) {
    this.#record = record;
    this.#events = events;
    this.#sink = sink;
    this.#hideUsage = options.hideUsage;
    this.#cutMarker = options.cutMarker;
    this.#declaredEventStream = options.declaredEventStream;
    this.#ownsChunks = options.ownsChunks;
    this.#scans = events.scan !== undefined;
  }

  push(chunk: Uint8Array, at: number): Uint8Array | null {
    this.#sink.at = at;
    const first = !this.#sawBytes;
    this.#sawBytes ||= chunk.byteLength > 0;
    // After the first event, read in bytes if the protocol can (every read but the first and the
    // last, paced or flooded): from an event's start, or with the event under way held in bytes.
    if (this.#scans && this.#sawEvent && this.#decoder === undefined && this.#out === '') {
      const handed = this.#scan(chunk);
      if (handed !== undefined) return handed;
    }
    this.#unscan();
    const text = this.#decode(chunk, first);
    const splitter = this.#splitter;
    if (!this.#hideUsage) {
      splitter.push(text, this);
      return chunk;
    }
    // The chunk's own bytes can be handed on, with what the protocol cuts out cut out in place,
    // when it is ASCII (one character per byte, none cut between chunks) and the splitter holds
    // nothing from the last chunk (paced: reads end with events), or holds that chunk's last
    // bytes, kept as `carry` (flooded: an event cut between two reads). Encoding the text anew
    // allocated every chunk twice over.
    const ascii = text.length === chunk.byteLength && (chunk.byteLength === 0 || chunk[0]! < 0x80);
    const carry = this.#carry;
    this.#carry = undefined;
    const pending = splitter.pending;
    const inPlace = ascii && this.#out === '' && splitter.taken === 0 && (pending === 0 || carry?.byteLength === pending);
    this.#text = inPlace ? text : undefined;
    this.#carried = inPlace ? carry : undefined;
    // Positions count from the chunk's first byte; the carry's are negative. (`0 - pending`, not
    // `-pending`, which is -0 when nothing is pending: a double, where positions are small integers.)
    this.#at = inPlace ? 0 - pending : 0;
    this.#cutCount = 0;
    splitter.push(text, this);
    const held = splitter.pending;
    // An event longer than the read-ahead: hand the app its head now, as the bare SDK would
    // have it, and keep back only the tail, where what the protocol cuts out sits.
    const ahead = this.#cutMarker === undefined ? '' : splitter.takeAhead(HELD_BACK_CHARS, this.#cutMarker, MARKER_MARGIN);
    // Line ends that belong to no event (the LF of a CRLF that ended the last one) go on at once:
    // the app's decoder may be waiting on them to see that event end.
    const idle = splitter.takeIdle();
    // What the splitter still holds, if it is this ASCII chunk's last bytes (and none was taken
    // ahead), is kept as bytes for the next read: they stay as they are here on either path.
    const rest = splitter.pending;
    if (ascii && splitter.taken === 0 && rest > 0) {
      if (rest <= chunk.byteLength) this.#carry = chunk.subarray(chunk.byteLength - rest);
      // An event under way across three reads or more (the small reads of a flooded stream): the
      // splitter holds all of the carry and all of this chunk, which went on in place untouched
      // (nothing of it was handed on): the carry grows by this chunk, and the next read stays in place.
      else if (this.#text !== undefined && carry !== undefined && rest === carry.byteLength + chunk.byteLength) this.#carry = joined(carry, chunk);
    }
    if (this.#text !== undefined) {
      this.#text = undefined;
      this.#carried = undefined;
      // What the splitter holds is the end of this text; what it hands on of it comes first.
      const handed = text.length - held;
      // Empty lines after the last block that end no event go nowhere, as on the text path.
      if (handed > this.#at) this.#cut(this.#at, handed);
      return compose(chunk, carry, 0 - pending, handed + ahead.length + idle.length, cuts, this.#cutCount, this.#ownsChunks);
    }
    this.#out += ahead;
    this.#out += idle;
    return this.#takeOut();
  }

  end(at: number): Uint8Array | null {
    this.#sink.at = at;
    this.#unscan();
    this.#text = undefined; // (set only inside push(), which a failure may have left)
    this.#carry = undefined;
    this.#carried = undefined;
    const tail = this.#decoder?.decode() ?? '';
    const splitter = this.#splitter;
    if (tail !== '') splitter.push(tail, this);
    // The app's SSE decoder dispatches an event the stream ended in the middle of: so do we.
    const taken = splitter.taken;
    const last = splitter.flush();
    if (last !== '') {
      // Read it as ended, but forward it as it came (without the empty line that ends it here).
      const forward = this.#forward(`${last}\n\n`, false);
      if (this.#hideUsage && forward !== '') this.#out += taken === 0 ? forward.slice(0, -2) : rest(last, forward.slice(0, -2), taken);
    }
    this.#events.end();
    // A body that is not SSE and holds not one event (JSON, text or HTML for a streamed request):
    // the app's stream yielded nothing of what it asked for.
    const sink = this.#sink;
    if (!this.#declaredEventStream && this.#sawBytes && !this.#sawEvent && sink.errorType === undefined) sink.errorType = ERROR_NOT_EVENT_STREAM;
    return this.#hideUsage ? this.#takeOut() : null;
  }

  get complete(): boolean {
    return this.#sink.completed;
  }

  get errorType(): string | undefined {
    return this.#sink.errorType;
  }

  /** One complete block, from the splitter. */
  block(block: string, lfOnly: boolean, taken: number, end: number): void {
    const returned = this.#read(block, lfOnly);
    if (!this.#hideUsage) return;
    const cut = this.#events.cut;
    if (this.#text !== undefined) {
      // In place: the block as it came, without one range, or without it (a block to leave out).
      const at = end - block.length;
      // Empty lines before it that end no event go nowhere, as on the text path.
      if (at > this.#at) this.#cut(this.#at, at);
      this.#at = end;
      if (cut !== undefined) {
        this.#cut(at + cut.start, at + cut.end);
        return;
      }
      if (returned === block) return;
      if (returned === '') {
        this.#cut(at, at + block.length);
        return;
      }
      // Changed otherwise: this chunk goes on as text, from the blocks before this one (the
      // carried bytes are ASCII: their text is one character per byte).
      const carried = this.#carried === undefined ? '' : plain.decode(this.#carried);
      this.#out = withoutRanges(carried + this.#text, -carried.length, at, cuts, this.#cutCount);
      this.#text = undefined;
      this.#carried = undefined;
    }
    const forward = withoutCut(returned, cut);
    this.#out += taken === 0 ? forward : rest(block, forward, taken);
  }

  /**
   * The hot path in bytes: a chunk without CR whose events the protocol's scan() knows by their
   * bytes is read without being decoded or split as text, and handed on as its own bytes, what
   * the protocol cuts out cut out in place. An event the last read ended inside (held in bytes,
   * or, while usage is hidden, by the splitter with its bytes as {@link #carry}) is read whole
   * when it ends here; the event this chunk ends inside is held in bytes (while usage is hidden,
   * none of it is handed on yet, as on the text path). Undefined (and nothing read, nothing
   * changed) for any other chunk, which the text path then reads whole.
   */
  #scan(chunk: Uint8Array): Uint8Array | null | undefined {
    const n = chunk.byteLength;
    if (n === 0 || indexOfByte(chunk, CR, 0) !== -1) return undefined;
    const splitter = this.#splitter;
    let carry = this.#byteCarry;
    // The text path's read before ended inside an event, whose bytes it kept while hiding usage
    // (all ASCII, all the splitter holds): the byte path takes it over from there (a flooded
    // stream, once).
    const fromText = carry === undefined && !splitter.idle;
    if (fromText) {
      carry = this.#hideUsage ? this.#carry : undefined;
      if (carry === undefined || splitter.taken > 0 || carry.byteLength !== splitter.pending || carry[0] === LF || indexOfByte(carry, CR, 0) !== -1) return undefined;
    }
    let count = 0;
    this.#cutCount = 0;
    let start = 0;
    if (carry !== undefined) {
      // The event under way ends in this chunk, or goes on through all of it.
      const end = carry[carry.byteLength - 1] === LF && chunk[0] === LF ? 1 : eventEnd(chunk, 0);
      if (end === -1) {
        // Held whole up to the bound past which the text path hands an event's head on early.
        if (carry.byteLength + n > HELD_BACK_CHARS) return undefined;
        if (fromText) this.#leaveText();
        this.#byteCarry = joined(carry, chunk);
        return this.#hideUsage ? null : chunk;
      }
      const event = joined(carry, chunk.subarray(0, end));
      // It starts in the carry: at a negative position of the chunk.
      const kind = this.#scanEvent(event, 0, event.byteLength, -carry.byteLength);
      if (kind === 0) return undefined;
      kinds[count++] = kind;
      start = end;
    }
    while (start < n) {
      // An empty line that ends no event: the text path forwards it (or not) as the splitter does.
      if (chunk[start] === LF) return undefined;
      const end = eventEnd(chunk, start);
      if (end === -1) break;
      const kind = this.#scanEvent(chunk, start, end, start);
      if (kind === 0) return undefined;
      kinds[count++] = kind;
      start = end;
    }
    // The event this chunk ends inside, from `start` on.
    if (n - start > HELD_BACK_CHARS) return undefined;
    if (fromText) this.#leaveText();
    for (let i = 0; i < count; i++) this.#events.readScanned!(kinds[i]!);
    // Held while usage is hidden as a view of the chunk's tail, which a cut in place leaves as it
    // is; else copied (the app has the chunk).
    this.#byteCarry = start === n ? undefined : this.#hideUsage ? chunk.subarray(start) : chunk.slice(start);
    if (!this.#hideUsage) return chunk;
    return compose(chunk, carry, carry === undefined ? 0 : -carry.byteLength, start, cuts, this.#cutCount, this.#ownsChunks);
  }

  /**
   * The protocol's scan() of the event `bytes[start, end)`, which starts at position `at` of the
   * chunk being pushed: its kind (0: not known by its bytes), the range it cuts out noted with
   * {@link #cut} in the chunk's positions.
   */
  #scanEvent(bytes: Uint8Array, start: number, end: number, at: number): number {
    scanned.start = 0;
    scanned.end = 0;
    const kind = this.#events.scan!(bytes, start, end, scanned);
    if (kind !== 0 && scanned.end > scanned.start) this.#cut(at + scanned.start, at + scanned.end);
    return kind;
  }

  /** The byte path takes over the event under way from the text path: the splitter lets go of it. */
  #leaveText(): void {
    this.#splitter.flush();
    this.#carry = undefined;
  }

  /**
   * The event under way that the byte path holds, handed to the splitter as the text path would
   * have left it (its text held, its bytes as {@link #carry}), before a read the byte path leaves
   * to the text path, and at the end.
   */
  #unscan(): void {
    const carry = this.#byteCarry;
    if (carry === undefined) return;
    this.#byteCarry = undefined;
    this.#splitter.push(this.#decode(carry, false), this);
    if (this.#hideUsage) this.#carry = carry;
  }

  /**
   * The text of `chunk`. While every chunk so far ended in an ASCII byte (nothing held between
   * reads), one that does too is decoded on its own, by a decoder shared by all streams; from the
   * first that does not (a character may be cut between reads), or a body that opens with a
   * byte-order mark (not text, dropped), the stream's own streaming decoder takes over.
   */
  #decode(chunk: Uint8Array, first: boolean): string {
    if (this.#decoder === undefined) {
      const n = chunk.byteLength;
      if (n === 0 || (chunk[n - 1]! < 0x80 && !(first && chunk[0] === 0xef))) return plain.decode(chunk);
      // Made after the start, it must not take a U+FEFF at its own start for a byte-order mark.
      this.#decoder = first ? new TextDecoder() : new TextDecoder('utf-8', { ignoreBOM: true });
    }
    return this.#decoder.decode(chunk, STREAMING);
  }

  /** A range of this chunk to cut out (after those cut so far), in its text or its bytes. */
  #cut(start: number, end: number): void {
    cuts[this.#cutCount++] = start;
    cuts[this.#cutCount++] = end;
  }

  /** One complete block, as text: what the app gets for it when usage is hidden. */
  #forward(block: string, lfOnly: boolean): string {
    return withoutCut(this.#read(block, lfOnly), this.#events.cut);
  }

  /** One complete block: returns what the protocol's reader returns for it (see EventReader.cut). */
  #read(block: string, lfOnly: boolean): string {
    if (!this.#sawEvent && hasData(block)) {
      this.#sawEvent = true;
      if (Number.isNaN(this.#record.firstChunkAt)) this.#record.firstChunkAt = this.#sink.at;
    }
    return this.#events.read(block, lfOnly);
  }

  #takeOut(): Uint8Array | null {
    const out = this.#out;
    if (out === '') return null;
    this.#out = '';
    return encoder.encode(out);
  }
}

/** What the app gets of a block the protocol's reader returned: `returned` without `cut` (see EventReader.cut). */
function withoutCut(returned: string, cut: EventReader['cut']): string {
  return cut === undefined ? returned : returned.slice(0, cut.start) + returned.slice(cut.end);
}

/** Where the first event from `start` ends in `bytes` (just past the empty line that ends it); -1 if none does. */
function eventEnd(bytes: Uint8Array, start: number): number {
  for (let at = indexOfByte(bytes, LF, start); at !== -1; at = indexOfByte(bytes, LF, at + 1)) if (bytes[at + 1] === LF) return at + 2;
  return -1;
}

/** `a` then `b`, in a new array. */
function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
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
