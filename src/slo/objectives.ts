import { configError, InferometerConfigError } from '../errors.js';
import type { Objectives } from '../types.js';
import { WORKLOAD_NAME_RULE, isWorkloadName } from '../workload/names.js';

/** The objectives, in the order a request lives them: the first one missed is the one reported. */
export const OBJECTIVES = ['timeToFirstToken', 'maxChunkGap', 'timePerOutputToken', 'minOutputSpeed', 'duration'] as const;

/**
 * The largest value each objective takes. Objectives are in seconds (`minOutputSpeed` in tokens
 * per second); each bound sits above any real objective, so a value written in milliseconds by
 * mistake (`timeToFirstToken: 800`) is caught at set-up instead of never being missed.
 */
const MAX_OBJECTIVE = Object.freeze({
  /** 5 minutes: reasoning models at high effort think for minutes before the first token. */
  timeToFirstToken: 300,
  /** 5 minutes: a model may reason or run a built-in tool between two outputs. */
  maxChunkGap: 300,
  /** 10 s per token (0.1 token/s): real objectives are 0.005 to 0.2. */
  timePerOutputToken: 10,
  /** 10000 tokens/s: several times the fastest inference served today. */
  minOutputSpeed: 10_000,
  /** An hour for one request: the longest deep-research or batch-class call. */
  duration: 3600,
} satisfies Record<(typeof OBJECTIVES)[number], number>);

/**
 * Starting points for the three workloads of the product brief. They are not truths: pick your
 * own from the p95 of a week of your data (see the README).
 */
export const SLO_PRESETS = Object.freeze({
  /** A chat UI: the first token fast, then a steady stream a person can read. */
  interactiveChat: Object.freeze({ timeToFirstToken: 1, timePerOutputToken: 0.05, maxChunkGap: 2 }),
  /** A nightly batch job: sustained throughput, generous end-to-end time. */
  batch: Object.freeze({ minOutputSpeed: 30, duration: 300 }),
  /** A production service (an API or an agent step): bounded end-to-end time, no stalls. */
  productionService: Object.freeze({ duration: 20, maxChunkGap: 5 }),
} satisfies Record<string, Objectives>);

/**
 * Validates the `slo` option: class names as workload names, objectives > 0 and at most their
 * {@link MAX_OBJECTIVE bound}.
 * @throws InferometerConfigError
 */
export function validateSlo(slo: unknown): asserts slo is Readonly<Record<string, Objectives>> {
  if (typeof slo !== 'object' || slo === null || Array.isArray(slo)) {
    throw configError('slo', 'an object of workload class -> objectives', slo);
  }
  for (const [workload, objectives] of Object.entries(slo)) {
    if (!isWorkloadName(workload)) throw configError(`slo key ${JSON.stringify(workload)}`, WORKLOAD_NAME_RULE, workload);
    const where = `slo[${JSON.stringify(workload)}]`;
    if (typeof objectives !== 'object' || objectives === null || Array.isArray(objectives)) {
      throw configError(where, `an object of objectives (${OBJECTIVES.join(', ')})`, objectives);
    }
    for (const [name, value] of Object.entries(objectives)) {
      if (!(OBJECTIVES as readonly string[]).includes(name)) {
        throw new InferometerConfigError(`Unknown objective \`${where}.${name}\`; the objectives are ${OBJECTIVES.map((o) => `\`${o}\``).join(', ')}`);
      }
      const max = MAX_OBJECTIVE[name as keyof typeof MAX_OBJECTIVE];
      if (typeof value !== 'number' || !(value > 0 && value <= max)) {
        const unit = name === 'minOutputSpeed' ? 'tokens per second' : 'seconds';
        throw configError(`${where}.${name}`, `a number > 0 and <= ${max} (${unit})`, value, millisecondsFix(name, value, max));
      }
    }
  }
}

/** How to write a time objective that looks like milliseconds, if it does. */
function millisecondsFix(name: string, value: unknown, max: number): string | undefined {
  if (name === 'minOutputSpeed' || typeof value !== 'number' || !(value > max && value / 1000 <= max)) return undefined;
  return `objectives are in seconds: for ${value} milliseconds write ${value / 1000}`;
}
