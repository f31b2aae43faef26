import { type EventSourceMessage, createParser } from 'eventsource-parser';

/** What the one shared parser dispatched for the block being parsed. */
let parsed: EventSourceMessage[] = [];
/**
 * One eventsource-parser for every stream: a block is a whole event up to and including the empty
 * line that ends it, so the parser is idle after each one, and is reset before the next. A parser
 * per stream held about 1.6 KB per open stream (its closures and the last event it parsed).
 */
const shared = createParser({ onEvent: (event) => parsed.push(event) });

/**
 * A parser of single event blocks into the events an SSE decoder sees in them (eventsource-parser
 * underneath), for a protocol reader's slow path. One per stream: it knows whether a block is the
 * stream's first, where a leading byte-order mark is not part of the text (as the SSE spec says).
 */
export function createBlockParser(): (block: string) => EventSourceMessage[] {
  let first = true;
  return (block) => parseBlock(block, first ? ((first = false), true) : false);
}

/**
 * The events in one block, as {@link createBlockParser}'s parser gives them; `first`: the stream's
 * first block (a reader that keeps that flag itself needs no parser object per stream).
 */
export function parseBlock(block: string, first: boolean): EventSourceMessage[] {
  parsed = [];
  shared.reset();
  // After the first block a leading U+FEFF is text: a blank line first ends the parser's BOM check.
  if (!first && block.charCodeAt(0) === 0xfeff) shared.feed('\n');
  // A block may end in a CR whose LF has not come (yet): the parser would wait for it.
  shared.feed(block.charCodeAt(block.length - 1) === 13 ? `${block}\n` : block);
  const out = parsed;
  parsed = [];
  return out;
}

/** Whether a block has a data field (an event the app's decoder dispatches), not only a comment. */
export function hasData(block: string): boolean {
  return block.startsWith('data') || block.indexOf('\ndata') !== -1 || block.indexOf('\rdata') !== -1;
}
