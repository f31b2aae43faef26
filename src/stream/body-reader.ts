/**
 * A reader of one response body: bytes in (with the time they arrived), the bytes to hand to the
 * app out. It fills in the request's timing record; it never touches OpenTelemetry.
 */
export interface BodyReader {
  /**
   * `chunk` arrived at `now`. Returns what the app receives instead: the same chunk (pass-through),
   * rewritten bytes, or null for nothing (yet).
   */
  push(chunk: Uint8Array, now: number): Uint8Array | null;
  /** The body ended at `now`; returns bytes still to hand to the app, or null. */
  end(now: number): Uint8Array | null;
  /** The terminal event (or, for JSON, the whole body) was seen: the response is complete. */
  readonly complete: boolean;
  /** The provider's error, from an in-stream error event; undefined if none. */
  readonly errorType: string | undefined;
}
