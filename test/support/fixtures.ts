/**
 * Recorded-shape response bodies under test/fixtures/ (see its README): read them whole for
 * unit tests of stream readers (no clock, no socket), split them into events, or serve them
 * through the scripted server as a `raw-sse` script.
 */
import { readFileSync } from 'node:fs';
import type { RawSseScript } from './scripted-server-types.ts';

const ROOT = new URL('../fixtures/', import.meta.url);

/** The exact bytes of a fixture, e.g. `fixture('gemini/text.sse')`. */
export function fixture(name: string): Buffer {
  return readFileSync(new URL(name, ROOT));
}
export const fixtureText = (name: string): string => fixture(name).toString('utf8');

/** The events of an SSE body, each with its own terminating blank line ("\n\n" or "\r\n\r\n"), concatenating to the body. */
export function sseEvents(body: string): string[] {
  const events: string[] = [];
  const re = /\r\n\r\n|\n\n|\r\r/g;
  let start = 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    events.push(body.slice(start, m.index + m[0].length));
    start = m.index + m[0].length;
  }
  if (start < body.length) events.push(body.slice(start));
  return events;
}

/**
 * Whether an event carries generated output: a non-empty text / thinking / tool-input delta
 * (Anthropic) or a part with non-empty text or a functionCall (Gemini). Not: message_start,
 * ping, block start/stop, an empty input_json_delta, signature_delta, usage, errors.
 */
export function isOutputEvent(event: string): boolean {
  return /"type":"(text_delta|thinking_delta)"|"partial_json":"[^"]|"parts":\[\{"(text":"[^"]|functionCall)/.test(event);
}

/** A raw-sse script that writes a fixture one event per res.write(), `gapMs` apart, output events marked. */
export function fixtureScript(name: string, options: { gapMs?: number; headersMs?: number } = {}): RawSseScript {
  const gap = options.gapMs ?? 0;
  const at = options.headersMs ?? 0;
  return {
    kind: 'raw-sse',
    headersMs: at,
    writes: sseEvents(fixtureText(name)).map((data, i) => ({ atMs: at + i * gap, data, output: isOutputEvent(data) })),
  };
}
