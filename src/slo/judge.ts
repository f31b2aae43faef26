import type { RequestRecord } from '../record.js';
import type { Objectives } from '../types.js';
import { OBJECTIVES } from './objectives.js';

/** The `inferometer.slo.missed` value of each objective. */
const MISSED_NAME: Record<(typeof OBJECTIVES)[number], string> = {
  timeToFirstToken: 'time_to_first_token',
  maxChunkGap: 'max_chunk_gap',
  timePerOutputToken: 'time_per_output_token',
  minOutputSpeed: 'output_speed',
  duration: 'duration',
};

/** The quantities objectives are judged on, in seconds (and tokens/s); undefined where not measured. */
export interface Measured {
  timeToFirstToken: number | undefined;
  maxChunkGap: number | undefined;
  timePerOutputToken: number | undefined;
  minOutputSpeed: number | undefined;
  duration: number | undefined;
}

/** Reads the judged quantities off a finished record (the recorder records the same values). */
export function measure(r: RequestRecord): Measured {
  const output = r.usage !== undefined && !r.usage.estimated ? r.usage.output : undefined;
  const span = (r.lastOutputAt - r.firstOutputAt) / 1000;
  return {
    timeToFirstToken: r.streaming && r.firstOutputAt >= 0 ? (r.firstOutputAt - r.start) / 1000 : undefined,
    // One output chunk or none: no gap at all, which is no stall.
    maxChunkGap: r.streaming && r.outputChunks > 0 ? (r.gaps?.max ?? 0) / 1000 : undefined,
    timePerOutputToken: r.streaming && output !== undefined && output > 1 && span > 0 ? span / (output - 1) : undefined,
    minOutputSpeed: r.streaming && output !== undefined && span > 0 ? output / span : undefined,
    duration: (r.end - r.start) / 1000,
  };
}

/**
 * Judges a finished request against its class's objectives: `undefined` when met, else what it
 * missed first: `error` or `cancelled` for a request that did not succeed, else the first
 * objective (in the order a request lives them) its measurement broke. An objective whose
 * quantity was not measured (TTFT of a non-streamed call) does not apply.
 */
export function firstMissed(r: RequestRecord, m: Measured, objectives: Objectives): string | undefined {
  if (r.outcome !== 'success') return r.outcome;
  for (const name of OBJECTIVES) {
    const limit = objectives[name];
    const value = m[name];
    if (limit === undefined || value === undefined) continue;
    const missed = name === 'minOutputSpeed' ? value < limit : value > limit;
    if (missed) return MISSED_NAME[name];
  }
  return undefined;
}
