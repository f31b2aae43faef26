import type { Usage } from '../usage.js';

/*
 * The seam between the generic layers (fetch wrapper, body tap, SSE framing, timing record,
 * metrics) and the wire protocols. A protocol module knows one API's routes and JSON; the
 * generic layers know none. Data flows one way: the fetch wrapper asks the protocols which one
 * serves a request, the body readers hand that protocol's reader the response, and the reader
 * reports what it finds through a ResponseSink, which fills in the request's timing record.
 */

/** A JSON object, as parsed from a request body. */
export type JsonObject = Record<string, unknown>;

/**
 * Where a protocol reports what it reads of a response; implemented once, by the generic body
 * readers, on top of the request's timing record. The time of every report is the arrival of
 * the bytes being read.
 */
export interface ResponseSink {
  /** An event that carries generated output (text, reasoning, tool input, audio) arrived. */
  output(): void;
  /** The usage the response reports so far; the latest report replaces earlier ones. */
  usage(usage: Usage): void;
  /** The model that answered; the first non-empty name counts. */
  model(name: string): void;
  /** The terminal event arrived: the response is complete. */
  complete(): void;
  /** The response reports an error; `code` is the provider's, if it has one. */
  error(code: string | undefined): void;
  /**
   * The provider's own figure of the time it spent on the request (ms), from the response itself
   * (Bedrock's `latencyMs`), beside the one its headers may give; the latest report counts.
   */
  serverTiming(ms: number): void;
}

/** Reads the events of one streamed (SSE) response, one complete event block at a time. */
export interface EventReader {
  /**
   * One event block, verbatim (`lfOnly`: it holds no CR). Returns what the app gets for it when
   * the request's usage option is hidden from the app: the block, the block with that option's
   * trace cut out, or '' for nothing. Otherwise the return value is ignored.
   */
  read(block: string, lfOnly: boolean): string;
  /** The body ended (after its last block): the protocol's rule for a stream without its terminal event. */
  end(): void;
  /**
   * Optional: after a `read()` that returned the block as it came, a range of its characters
   * (`start` to `end`, not included) the app does not get: what it gets is the block without
   * them. Undefined when the return value is all the app gets. The body reader cuts the range out
   * of the network chunk in place, and builds no text for it.
   */
  readonly cut?: { readonly start: number; readonly end: number } | undefined;
  /**
   * Optional, the hot path in bytes: what the block `bytes[start, end)` is, judged by its bytes
   * alone, without decoding it. The block is one whole event, after the stream's first, with LF
   * line ends only, up to and including the empty line that ends it; it is the app's memory:
   * read it, never keep or change it. Returns a kind above 0 to hand to {@link readScanned} (in
   * order, once every block of the network chunk was scanned), having written into `cut` (given
   * as start = end = 0) the bytes the app does not get, as offsets from `start`; or 0: the block
   * is read as text, with {@link read}. Reads nothing itself, so a chunk in which one block
   * scans 0 is read as text whole.
   */
  scan?(bytes: Uint8Array, start: number, end: number, cut: { start: number; end: number }): number;
  /** Reads a block {@link scan} gave `kind`, as {@link read} would have read it. */
  readScanned?(kind: number): void;
}

/** One message of a binary event stream (`application/vnd.amazon.eventstream`): its string headers and its payload. */
export interface StreamMessage {
  /** The message's headers whose values are strings (`:event-type`, `:message-type`, `:exception-type`, …). */
  readonly headers: Readonly<Record<string, string>>;
  /** The payload; it may be a view of the app's bytes, valid only during `read()`: read it there, never keep or change it. */
  readonly payload: Uint8Array;
}

/** Reads the messages of one binary event stream, one decoded message at a time. */
export interface MessageReader {
  read(message: StreamMessage): void;
  /** The body ended (after its last message): the protocol's rule for a stream without its terminal event. */
  end(): void;
}

/** A request a protocol recognised, described before it is sent. */
export interface ProtocolRequest {
  /** `gen_ai.operation.name`. */
  readonly operation: string;
  /** `gen_ai.request.model`, from the body or the URL. */
  readonly model: string | undefined;
  /** The request asks for a streamed (SSE) response. */
  readonly stream: boolean;
  /** Input tokens guessed from the prompt's length, for a response that reports no usage. */
  readonly estimatedInputTokens: number | undefined;
  /**
   * The body with token usage asked for, when the request streams and neither asks for usage
   * itself nor gets it anyway; undefined otherwise.
   */
  withUsageRequested(): string | undefined;
  /** Whether an error response (its status and body text) refuses what {@link withUsageRequested} added. */
  refusesUsageRequest(status: number, text: string): boolean;
}

/** One wire protocol: its routes, its requests, its responses. */
export interface Protocol {
  /** For diagnostics and tests: `openai.chat`, `anthropic.messages`, … */
  readonly name: string;
  /** `gen_ai.provider.name` when neither the host nor the app's `provider` option names one. */
  readonly provider: string;
  /** Describes a POST to one of the protocol's routes; undefined for any other request. */
  recognise(url: URL, body: JsonObject | undefined): ProtocolRequest | undefined;
  /** A reader of one streamed response; `hideUsage`: the request's usage was asked for by inferometer. */
  events(sink: ResponseSink, hideUsage: boolean): EventReader;
  /**
   * While usage is hidden, an event under way is held back from shortly before this text on
   * (the key of what `read` may cut out); undefined when the protocol never cuts.
   */
  readonly cutMarker: string | undefined;
  /**
   * A reader of one binary event stream (`application/vnd.amazon.eventstream`), for a protocol
   * that streams that way; undefined for one that does not.
   */
  readonly messages?: (sink: ResponseSink) => MessageReader;
  /**
   * A short stream of this protocol with its usage asked for, as the text of its network reads
   * (one of them ending inside an event), that inferometer reads once per process through the real
   * tap and SSE reader and keeps, so that V8 keeps the optimized code of the per-chunk methods
   * between streams (see src/fetch/kept-shapes.ts); undefined for a protocol that gives none.
   */
  readonly sampleReads?: readonly string[];
  /** Reads a whole non-streamed JSON response. */
  json(body: unknown, sink: ResponseSink): void;
  /** Reads a JSON response too large to parse whole, from its first and last characters. */
  largeJson(head: string, tail: string, sink: ResponseSink): void;
}

/** A protocol's answer for a request: which protocol, and what it made of the request. */
export interface Recognised {
  readonly protocol: Protocol;
  readonly request: ProtocolRequest;
}
