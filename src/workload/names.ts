/** A workload class name: 1-64 characters of letters, digits and `. _ - : /`. */
const WORKLOAD_NAME = /^[A-Za-z0-9._:/-]{1,64}$/;

export const WORKLOAD_NAME_RULE = 'a workload class name (1-64 characters of A-Z a-z 0-9 . _ - : /)';

export function isWorkloadName(value: unknown): value is string {
  return typeof value === 'string' && WORKLOAD_NAME.test(value);
}
