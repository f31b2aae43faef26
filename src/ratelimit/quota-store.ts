import type { QuotaReading } from './read-headers.js';

/** One quota as last seen: per provider, server, model and resource. */
export interface QuotaEntry {
  readonly provider: string;
  readonly server: string;
  readonly model: string | undefined;
  readonly resource: QuotaReading['resource'];
  readonly limit: number | undefined;
  readonly remaining: number | undefined;
  readonly resetAt: number | undefined;
  /** When it was seen (epoch ms). */
  readonly seenAt: number;
}

/** A quota that names no reset is left out this long after it was last seen (ms). */
export const UNDATED_TTL_MS = 60_000;
/** A quota whose window has reset reads as refilled this long, then is forgotten (ms). */
export const REFILLED_TTL_MS = 10 * 60_000;
/** At most this many quotas are kept; the one seen longest ago makes room. */
export const MAX_QUOTAS = 256;

/** What the headroom gauges observe of one quota at one collection. */
export interface QuotaObservation {
  readonly entry: QuotaEntry;
  readonly remaining: number | undefined;
  readonly limit: number | undefined;
  /** Seconds to the reset; undefined when unknown. */
  readonly resetSeconds: number | undefined;
}

/**
 * The last value of every quota seen, for the headroom gauges, bounded. A quiet app never shows
 * old headroom: once a quota's window has reset, it reads as refilled (remaining = limit, 0 s to
 * reset) for ten minutes and is then forgotten; a quota without a known limit or reset time is
 * left out once its window has reset, or a minute after it was seen. (An OpenTelemetry SDK that
 * exports cumulative gauges keeps exporting the last value of a series left out; with delta
 * temporality it disappears.)
 */
export class QuotaStore {
  readonly #entries = new Map<string, QuotaEntry>();

  set(provider: string, server: string, model: string | undefined, reading: QuotaReading, now: number): void {
    const key = `${provider}\u0000${server}\u0000${model ?? ''}\u0000${reading.resource}`;
    const entries = this.#entries;
    entries.delete(key); // re-inserted last: the map's order is the order of last sight
    if (entries.size >= MAX_QUOTAS) entries.delete(entries.keys().next().value!);
    entries.set(key, { provider, server, model, ...reading, seenAt: now });
  }

  /** What to observe at `now` (epoch ms); quotas past their time are forgotten. */
  observe(now: number): QuotaObservation[] {
    const out: QuotaObservation[] = [];
    for (const [key, entry] of this.#entries) {
      if (entry.resetAt === undefined) {
        if (now - entry.seenAt >= UNDATED_TTL_MS) this.#entries.delete(key);
        else out.push({ entry, remaining: entry.remaining, limit: entry.limit, resetSeconds: undefined });
      } else if (now < entry.resetAt) {
        out.push({ entry, remaining: entry.remaining, limit: entry.limit, resetSeconds: (entry.resetAt - now) / 1000 });
      } else if (entry.limit !== undefined && now - entry.resetAt < REFILLED_TTL_MS) {
        out.push({ entry, remaining: entry.limit, limit: entry.limit, resetSeconds: 0 });
      } else {
        this.#entries.delete(key);
      }
    }
    return out;
  }
}
