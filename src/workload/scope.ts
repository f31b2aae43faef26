import { AsyncLocalStorage } from 'node:async_hooks';
import { configError } from '../errors.js';
import { WORKLOAD_NAME_RULE, isWorkloadName } from './names.js';

const storage = new AsyncLocalStorage<string>();

/**
 * Runs `fn` with `name` as the workload class of every inferometer-metered request it makes,
 * including those made in callbacks and promises it starts. Scopes nest (the innermost wins) and
 * concurrent scopes never see each other's name. A per-call `x-inferometer-workload` header
 * still wins over the scope.
 *
 * @returns what `fn` returns
 * @throws InferometerConfigError when `name` is not a valid workload class name
 * @example
 * await withWorkload('nightly-summaries', () => client.chat.completions.create({ model, messages }));
 */
export function withWorkload<T>(name: string, fn: () => T): T {
  if (!isWorkloadName(name)) throw configError('name', WORKLOAD_NAME_RULE, name);
  if (typeof fn !== 'function') throw configError('fn', 'a function', fn);
  return storage.run(name, fn);
}

/** The workload class of the innermost `withWorkload` scope, if any. */
export function scopedWorkload(): string | undefined {
  return storage.getStore();
}
