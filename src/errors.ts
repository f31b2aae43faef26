/**
 * Thrown at set-up (by `instrument`, `meteredFetch`, `withWorkload`, and `createMeterProvider` or
 * `inferometerViews` from `inferometer/sdk`) when an option is invalid.
 * Never thrown while a request is under way: from then on inferometer reports through OTel `diag`.
 */
export class InferometerConfigError extends TypeError {
  override readonly name = 'InferometerConfigError';
}

/** Formats a value for an error message: short, and never more than 60 characters of it. */
export function describe(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'function') text = 'a function';
  else if (typeof value === 'bigint') text = `${value}n`;
  else if (typeof value === 'number') text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  if (text.length > 60) text = `${text.slice(0, 57)}...`;
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${text}\` (${type})`;
}

/** `Expected \`what\` to be expectation, got \`value\` (type)`, then `; fix` when one is given. */
export function configError(what: string, expectation: string, value: unknown, fix?: string): InferometerConfigError {
  const message = `Expected \`${what}\` to be ${expectation}, got ${describe(value)}`;
  return new InferometerConfigError(fix === undefined ? message : `${message}; ${fix}`);
}
