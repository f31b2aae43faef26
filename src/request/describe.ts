import { recognise } from '../protocols/index.js';
import type { JsonObject, Protocol, ProtocolRequest } from '../protocols/protocol.js';

/** What inferometer learns about a request before sending it. */
export interface DescribedRequest {
  readonly url: URL;
  /** The protocol that serves it, and what the protocol made of it. */
  readonly protocol: Protocol;
  readonly request: ProtocolRequest;
}

/**
 * Describes a POST that one of the protocols serves, or returns undefined for anything else,
 * which then passes through untouched and unmetered. The body is parsed once, here, when it is
 * a JSON string (as every SDK sends it).
 */
export function describeRequest(url: string, method: string, body: unknown): DescribedRequest | undefined {
  if (method.toUpperCase() !== 'POST') return undefined;
  const parsedUrl = new URL(url);
  const recognised = recognise(parsedUrl, parseJsonObject(body));
  return recognised === undefined ? undefined : { url: parsedUrl, protocol: recognised.protocol, request: recognised.request };
}

function parseJsonObject(body: unknown): JsonObject | undefined {
  if (typeof body !== 'string' || body.charCodeAt(0) !== 123 /* { */) return undefined;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}
