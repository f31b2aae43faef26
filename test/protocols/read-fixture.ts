import type { Protocol, ResponseSink } from '../../src/protocols/protocol.js';
import { BlockSplitter } from '../../src/stream/sse-blocks.js';
import type { Usage } from '../../src/usage.js';
import { fixtureText } from '../support/fixtures.ts';

/** What a protocol reported of a response, in order: no clock, no socket, no record. */
export interface Reported {
  /** Index of each block that was reported as output. */
  outputs: number[];
  usage: Usage | undefined;
  models: string[];
  completed: boolean;
  errors: Array<string | undefined>;
  /** What the app gets of each block when usage is hidden. */
  forwarded: string[];
}

/** Feeds a recorded body through a protocol's stream reader, `pieceSize` characters at a time. */
export function readFixture(protocol: Protocol, name: string, pieceSize = Infinity, hideUsage = false): Reported {
  const reported: Reported = { outputs: [], usage: undefined, models: [], completed: false, errors: [], forwarded: [] };
  let block = -1;
  const sink: ResponseSink = {
    output: () => reported.outputs.push(block),
    usage: (u) => (reported.usage = u),
    model: (m) => reported.models.push(m),
    complete: () => (reported.completed = true),
    error: (code) => reported.errors.push(code),
    serverTiming: () => {},
  };
  const events = protocol.events(sink, hideUsage);
  const splitter = new BlockSplitter();
  const text = fixtureText(name);
  const onBlock = (b: string, lfOnly: boolean) => {
    block++;
    // What the app gets: the returned text, without the range the reader says it cut (EventReader.cut).
    const returned = events.read(b, lfOnly);
    const cut = events.cut;
    reported.forwarded.push(cut === undefined ? returned : returned.slice(0, cut.start) + returned.slice(cut.end));
  };
  for (let at = 0; at < text.length; at += Math.min(pieceSize, text.length)) splitter.push(text.slice(at, at + pieceSize), { block: onBlock });
  const rest = splitter.flush();
  if (rest !== '') onBlock(`${rest}\n\n`, false);
  events.end();
  return reported;
}
