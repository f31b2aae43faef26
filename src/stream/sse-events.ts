import { type EventSourceMessage, createParser } from 'eventsource-parser';

/**
 * A parser of single event blocks into the events an SSE decoder sees in them (eventsource-parser
 * underneath), for a protocol reader's slow path. One per stream: it is made once, not per block.
 */
export function createBlockParser(): (block: string) => EventSourceMessage[] {
  let parsed: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => parsed.push(event) });
  return (block) => {
    parsed = [];
    // A block may end in a CR whose LF has not come (yet): the parser would wait for it.
    parser.feed(block.charCodeAt(block.length - 1) === 13 ? `${block}\n` : block);
    return parsed;
  };
}

/** Whether a block has a data field (an event the app's decoder dispatches), not only a comment. */
export function hasData(block: string): boolean {
  return block.startsWith('data') || block.indexOf('\ndata') !== -1 || block.indexOf('\rdata') !== -1;
}
