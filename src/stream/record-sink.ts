import type { ResponseSink } from '../protocols/protocol.js';
import type { RequestRecord } from '../record.js';
import { ERROR_STREAM } from '../semconv.js';
import type { Usage } from '../usage.js';
import { GapHistogram } from './gap-histogram.js';

const MAX_MODEL_LENGTH = 128;

/**
 * The one implementation of {@link ResponseSink}: what a protocol reads of a response goes into
 * the request's timing record, stamped with the arrival time of the bytes being read (`at`, set
 * by the body reader before it hands a protocol each piece). Per output event: one comparison,
 * one gap added, three stores.
 */
export class RecordSink implements ResponseSink {
  /** When the bytes being read arrived (`performance.now()` ms). */
  at = 0;
  /** The terminal event was seen ({@link complete} was called). */
  completed = false;
  /** The error the response reported (bounded `error.type`), if any. */
  errorType: string | undefined = undefined;
  readonly #record: RequestRecord;
  readonly #admitErrorCode: (code: string) => string;

  constructor(record: RequestRecord, admitErrorCode: (code: string) => string) {
    this.#record = record;
    this.#admitErrorCode = admitErrorCode;
  }

  output(): void {
    const r = this.#record;
    const now = this.at;
    if (r.outputChunks === 0) r.firstOutputAt = now;
    else (r.gaps ??= new GapHistogram()).add(now - r.lastOutputAt);
    r.lastOutputAt = now;
    r.outputChunks++;
  }

  usage(usage: Usage): void {
    this.#record.usage = usage;
  }

  model(name: string): void {
    if (name !== '' && this.#record.responseModel === undefined) this.#record.responseModel = name.slice(0, MAX_MODEL_LENGTH);
  }

  complete(): void {
    this.completed = true;
  }

  serverTiming(ms: number): void {
    if (Number.isFinite(ms) && ms >= 0) this.#record.providerProcessingMs = ms;
  }

  error(code: string | undefined): void {
    this.errorType = code === undefined || code === '' ? ERROR_STREAM : this.#admitErrorCode(code);
  }
}
