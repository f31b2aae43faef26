import { configError, InferometerConfigError } from '../errors.js';
import type { Objectives } from '../types.js';
import { WORKLOAD_NAME_RULE, isWorkloadName } from '../workload/names.js';

/** The objectives, in the order a request lives them: the first one missed is the one reported. */
export const OBJECTIVES = ['timeToFirstToken', 'maxChunkGap', 'timePerOutputToken', 'minOutputSpeed', 'duration'] as const;

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
 * Validates the `slo` option: class names as workload names, objectives finite and > 0.
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
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
        const unit = name === 'minOutputSpeed' ? 'tokens per second' : 'seconds';
        throw configError(`${where}.${name}`, `a finite number > 0 (${unit})`, value);
      }
    }
  }
}
