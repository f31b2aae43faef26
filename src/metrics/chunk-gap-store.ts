import type { Attributes } from '@opentelemetry/api';
import { emptyGapTotals, type GapHistogram, type GapTotals } from '../stream/gap-histogram.js';

/*
 * The per-chunk gap histogram (`gen_ai.client.operation.time_per_output_chunk`) without one OTel
 * `record` per chunk. Through the plain API, an exact distribution takes one record per gap (the
 * SDK hashes the attributes on each: about 2.5 us and 800 bytes a chunk, bench/README.md). Where
 * inferometer set up the SDK itself (`inferometer/sdk`), a finished stream's gaps are added here
 * instead, per bucket, and each metric reader takes the totals as a histogram data point when it
 * collects (src/sdk/chunk-gap-producer.ts): the same bucket counts, count, sum, min and max.
 */

/** How a reader wants histogram points: totals since it began (cumulative), or since its last collection (delta). */
export type Temporality = 'cumulative' | 'delta';

/** One series of a reader: its attributes, since when it counts (epoch ms), its totals (ms). */
export interface GapSeries {
  readonly attributes: Attributes;
  readonly startTime: number;
  readonly totals: GapTotals;
}

/** The SDK's default cardinality limit per instrument and reader; further attribute sets go to one overflow series. */
const MAX_SERIES = 2000;
const OVERFLOW: Attributes = { 'otel.metric.overflow': true };
const OVERFLOW_KEY = '\u0000overflow';

/** The series one reader has not collected yet (delta), or all it ever saw (cumulative). */
export class GapSeriesSet {
  readonly temporality: Temporality;
  readonly #series = new Map<string, GapSeries>();
  /** When the last collection happened (the start of a delta point). */
  #since: number;

  constructor(temporality: Temporality, now: number) {
    this.temporality = temporality;
    this.#since = now;
  }

  add(key: string, attributes: Attributes, gaps: GapHistogram, now: number): void {
    let series = this.#series.get(key);
    if (series === undefined) {
      if (this.#series.size >= MAX_SERIES) return this.add(OVERFLOW_KEY, OVERFLOW, gaps, now);
      series = { attributes, startTime: this.temporality === 'delta' ? this.#since : now, totals: emptyGapTotals() };
      this.#series.set(key, series);
    }
    gaps.addTo(series.totals);
  }

  /** The series to export now; a delta reader's are then forgotten (the next point starts now). */
  collect(now: number): GapSeries[] {
    const out = [...this.#series.values()];
    if (this.temporality === 'delta') {
      this.#series.clear();
      this.#since = now;
    }
    return out;
  }
}

/** The meeting point of the recorder (adds finished streams) and the readers (collect). */
export class ChunkGapStore {
  readonly #sets: GapSeriesSet[] = [];

  /** A reader's own view of the totals, in its temporality. */
  subscribe(temporality: Temporality): GapSeriesSet {
    const set = new GapSeriesSet(temporality, Date.now());
    this.#sets.push(set);
    return set;
  }

  /** Adds a finished stream's gaps under `attributes` (once per stream; work per bucket and reader). */
  add(attributes: Attributes, gaps: GapHistogram): void {
    if (this.#sets.length === 0) return;
    const key = JSON.stringify(attributes);
    const now = Date.now();
    for (const set of this.#sets) set.add(key, attributes, gaps, now);
  }
}

/** Where a MeterProvider set up by `inferometer/sdk` carries its store (a global symbol: one across copies of inferometer). */
const STORE = Symbol.for('inferometer.chunkGapStore');

/** Marks `provider` as one whose readers take the chunk gaps from `store`. */
export function attachChunkGapStore(provider: object, store: ChunkGapStore): void {
  Object.defineProperty(provider, STORE, { value: store });
}

/** What the recorder needs of a store (the store of another copy of inferometer, CJS beside ESM, has it too). */
export type ChunkGapSink = Pick<ChunkGapStore, 'add'>;

/** The store of a MeterProvider set up by `inferometer/sdk`, if it has one. */
export function chunkGapStoreOf(provider: object): ChunkGapSink | undefined {
  const store = (provider as { [STORE]?: { add?: unknown } })[STORE];
  return typeof store?.add === 'function' ? (store as ChunkGapSink) : undefined;
}
