import type { MeterConfig } from '../config.js';
import { warnOnce } from '../diag.js';
import { OTHER } from '../semconv.js';
import type { RequestDescription } from '../types.js';
import { isWorkloadName } from './names.js';
import { scopedWorkload } from './scope.js';

/**
 * The workload class of a request, most specific first: the per-call header, the innermost
 * `withWorkload` scope, then the `workload` option. Bounded by `maxWorkloadClasses`; never throws.
 */
export function resolveWorkload(config: MeterConfig, header: string | null, request: RequestDescription): string {
  if (header !== null) return admit(config, header, 'x-inferometer-workload header');
  const scoped = scopedWorkload();
  if (scoped !== undefined) return config.workloads.admit(scoped);
  const option = config.workload;
  if (typeof option === 'string') return config.workloads.admit(option);
  let name: unknown;
  try {
    name = option(request);
  } catch {
    warnOnce('workload-fn-threw', 'the `workload` function threw; the request is recorded as _OTHER');
    return OTHER;
  }
  return admit(config, name, '`workload` function');
}

function admit(config: MeterConfig, name: unknown, source: string): string {
  if (isWorkloadName(name)) return config.workloads.admit(name);
  warnOnce(`workload-invalid:${source}`, `the ${source} gave an invalid workload class name; recorded as _OTHER (names are 1-64 characters of A-Z a-z 0-9 . _ - : /)`);
  return OTHER;
}
