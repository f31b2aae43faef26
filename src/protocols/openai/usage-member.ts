import type { EventSourceMessage } from 'eventsource-parser';

/*
 * Cutting the `"usage": null` member that `stream_options.include_usage` makes every chat chunk
 * carry out of an event, so that the app sees the chunks it asked for. Cuts are made in place
 * (the rest of the event's text is left exactly as it came), so that a long event whose head
 * already reached the app can still lose its member at the tail.
 */

/** The member in an event's data, as the app's SDK would parse it. */
export const USAGE_NULL = /,\s*"usage"\s*:\s*null|"usage"\s*:\s*null\s*,?/;

const SPACE = 32;
const TAB = 9;
const LF = 10;
const CR = 13;
const COMMA = 44;

const isBlank = (c: number): boolean => c === SPACE || c === TAB;

/** Where the value of a JSON member starts: after `:` and spaces from `i` (just past the key); -1 if not. */
export function valueAt(text: string, i: number): number {
  while (isBlank(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 58 /* : */) return -1;
  i++;
  while (isBlank(text.charCodeAt(i))) i++;
  return i < text.length ? i : -1;
}

/**
 * `text` without the JSON member from `keyAt` to `valueEnd` and the comma that joins it to its
 * neighbour, or undefined when that comma is not on the same line.
 */
export function withoutMember(text: string, keyAt: number, valueEnd: number): string | undefined {
  const range = memberRange(text, keyAt, valueEnd);
  return range === undefined ? undefined : text.slice(0, range.start) + text.slice(range.end);
}

/** A range of characters to cut out of a text: from `start` up to (not including) `end`. */
export interface CutRange {
  start: number;
  end: number;
}

/**
 * The characters {@link withoutMember} cuts out (written into `into`, which is returned), or
 * undefined when it would not cut.
 */
export function memberRange(text: string, keyAt: number, valueEnd: number, into: CutRange = { start: 0, end: 0 }): CutRange | undefined {
  let before = keyAt - 1;
  while (isBlank(text.charCodeAt(before))) before--;
  if (text.charCodeAt(before) === COMMA) return set(into, before, valueEnd);
  let after = valueEnd;
  while (isBlank(text.charCodeAt(after))) after++;
  if (text.charCodeAt(after) === COMMA) return set(into, keyAt, after + 1);
  if (text.charCodeAt(before) === 123 /* { */ && text.charCodeAt(after) === 125 /* } */) return set(into, keyAt, valueEnd);
  return undefined;
}

/** {@link valueAt} on bytes: where the member's value starts, before `end`; -1 if not. */
export function valueAtBytes(bytes: Uint8Array, i: number, end: number): number {
  while (isBlank(bytes[i]!)) i++;
  if (bytes[i] !== 58 /* : */) return -1;
  i++;
  while (isBlank(bytes[i]!)) i++;
  return i < end ? i : -1;
}

/**
 * {@link memberRange} on bytes (of one block, whose neighbours hold no blank or comma next to
 * it: an SSE block begins after a line end and ends with one), as byte offsets.
 */
export function memberRangeBytes(bytes: Uint8Array, keyAt: number, valueEnd: number, into: CutRange): CutRange | undefined {
  let before = keyAt - 1;
  while (isBlank(bytes[before]!)) before--;
  if (bytes[before] === COMMA) return set(into, before, valueEnd);
  let after = valueEnd;
  while (isBlank(bytes[after]!)) after++;
  if (bytes[after] === COMMA) return set(into, keyAt, after + 1);
  if (bytes[before] === 123 /* { */ && bytes[after] === 125 /* } */) return set(into, keyAt, valueEnd);
  return undefined;
}

function set(range: CutRange, start: number, end: number): CutRange {
  range.start = start;
  range.end = end;
  return range;
}

/** Where the block's last `"usage"` key starts, if its value is null; else -1. */
function lastUsageNullAt(block: string): number {
  const keyAt = block.lastIndexOf('"usage"');
  if (keyAt === -1) return -1;
  const value = valueAt(block, keyAt + 7);
  return value !== -1 && block.startsWith('null', value) ? keyAt : -1;
}

/**
 * The range {@link cutUsageNull} cuts out when it is one range: the last `"usage": null` member
 * on its own line, with the comma that joins it (written into `into`); undefined otherwise.
 */
export function usageNullRange(block: string, into?: CutRange): CutRange | undefined {
  const keyAt = lastUsageNullAt(block);
  return keyAt === -1 ? undefined : memberRange(block, keyAt, valueAt(block, keyAt + 7) + 4, into);
}

/**
 * The event block without its last `"usage": null` member, cut in place: on the member's own
 * line (compact JSON), or, for pretty-printed data, the member's whole `data:` line and the comma
 * that ends the line before it. Undefined when the block has no such member or it sits otherwise;
 * the caller checks that the cut block parses to the data it expects.
 */
export function cutUsageNull(block: string): string | undefined {
  const keyAt = lastUsageNullAt(block);
  if (keyAt === -1) return undefined;
  const end = valueAt(block, keyAt + 7) + 4;
  const sameLine = withoutMember(block, keyAt, end);
  if (sameLine !== undefined) return sameLine;

  // A `data:` line that holds only the member ...
  let lineStart = keyAt;
  while (lineStart > 0 && block.charCodeAt(lineStart - 1) !== LF && block.charCodeAt(lineStart - 1) !== CR) lineStart--;
  if (!block.startsWith('data:', lineStart)) return undefined;
  for (let i = lineStart + 5; i < keyAt; i++) if (!isBlank(block.charCodeAt(i))) return undefined;
  let next = end;
  while (isBlank(block.charCodeAt(next))) next++;
  if (block.charCodeAt(next) === CR) next += block.charCodeAt(next + 1) === LF ? 2 : 1;
  else if (block.charCodeAt(next) === LF) next++;
  else return undefined;
  // ... after a line that ends in the comma (and maybe spaces).
  let previousEnd = lineStart - 1;
  if (block.charCodeAt(previousEnd) === LF && block.charCodeAt(previousEnd - 1) === CR) previousEnd--;
  let comma = previousEnd - 1;
  while (comma >= 0 && isBlank(block.charCodeAt(comma))) comma--;
  if (block.charCodeAt(comma) !== COMMA) return undefined;
  return block.slice(0, comma) + block.slice(previousEnd, lineStart) + block.slice(next);
}

/** One event written anew with `data` (comments inside the block are left out). */
export function serialize(event: EventSourceMessage, data: string): string {
  let text = '';
  if (event.event !== undefined) text += `event: ${event.event}\n`;
  if (event.id !== undefined) text += `id: ${event.id}\n`;
  for (const line of data.split('\n')) text += `data: ${line}\n`;
  return `${text}\n`;
}
