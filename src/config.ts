import { type MeterProvider, metrics } from '@opentelemetry/api';
import { DEFAULT_PRICES } from './cost/default-prices.js';
import { PriceBook } from './cost/price-book.js';
import { validatePrices } from './cost/validate-prices.js';
import { warnOnce } from './diag.js';
import { configError, InferometerConfigError } from './errors.js';
import { type Instruments, instrumentsFor } from './metrics/instruments.js';
import { MetricRecorder } from './metrics/recorder.js';
import type { MeterOptions, WorkloadOption } from './types.js';
import { OTHER } from './semconv.js';
import { validateSlo } from './slo/objectives.js';
import { RetryLinker } from './request/retry-linker.js';
import { VERSION } from './version.js';
import { CappedSet } from './workload/capped-set.js';
import { WORKLOAD_NAME_RULE, isWorkloadName } from './workload/names.js';

/** Options after validation, with their defaults and the state shared by every request. */
export interface MeterConfig {
  readonly workload: WorkloadOption;
  /** `gen_ai.provider.name` for hosts no rule names; undefined: the protocol's own provider. */
  readonly provider: string | undefined;
  readonly injectStreamUsage: boolean;
  readonly fetch: typeof globalThis.fetch | undefined;
  readonly workloads: CappedSet;
  readonly errorCodes: CappedSet;
  /** {@link admitErrorCode} for this configuration (made once, not per request). */
  readonly admitErrorCode: (code: string) => string;
  readonly recorder: MetricRecorder;
  /** Origins that refused the usage option inferometer added: they are not asked again. */
  readonly usageRejectedBy: Set<string>;
  /** Whether a failed attempt waits for a retry from a framework above fetch (see RetryLinker). */
  readonly linkRetries: boolean;
  /** Failed attempts waiting for a retry from a framework above fetch. */
  readonly linker: RetryLinker;
}

const KNOWN = ['workload', 'meterProvider', 'prices', 'slo', 'injectStreamUsage', 'maxWorkloadClasses', 'provider', 'linkRetries', 'fetch'] as const;
const PROVIDER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** Distinct provider error codes kept as `error.type` values before `_OTHER`. */
const MAX_ERROR_CODES = 32;
const ERROR_CODE = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Validates options up front and says what was expected and what was given.
 * @throws InferometerConfigError
 */
export function resolveConfig(options: MeterOptions | undefined, allowFetch: boolean): MeterConfig {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw configError('options', 'an object', options);
  }
  /** Options of meteredFetch() only: instrument() sends through the client's fetch and sees its retries itself. */
  const fetchOnly = (k: string) => k === 'fetch' || k === 'linkRetries';
  for (const key of Object.keys(options)) {
    if (!(KNOWN as readonly string[]).includes(key) || (fetchOnly(key) && !allowFetch)) {
      const known = KNOWN.filter((k) => allowFetch || !fetchOnly(k)).map((k) => `\`${k}\``).join(', ');
      throw new InferometerConfigError(`Unknown option \`${key}\`; the options are ${known}`);
    }
  }
  const { workload = 'default', meterProvider, prices = {}, slo = {}, injectStreamUsage = true, maxWorkloadClasses = 50, provider, linkRetries = true, fetch } = options;

  if (typeof workload !== 'function' && !isWorkloadName(workload)) {
    throw configError('workload', `${WORKLOAD_NAME_RULE} or a function of the request`, workload);
  }
  if (meterProvider !== undefined && typeof (meterProvider as Partial<MeterProvider> | null)?.getMeter !== 'function') {
    throw configError('meterProvider', 'an OpenTelemetry MeterProvider (an object with getMeter())', meterProvider);
  }
  validatePrices(prices);
  validateSlo(slo);
  if (typeof injectStreamUsage !== 'boolean') throw configError('injectStreamUsage', 'a boolean', injectStreamUsage);
  if (!Number.isInteger(maxWorkloadClasses) || maxWorkloadClasses < 1 || maxWorkloadClasses > 10_000) {
    throw configError('maxWorkloadClasses', 'an integer from 1 to 10000', maxWorkloadClasses);
  }
  if (provider !== undefined && (typeof provider !== 'string' || !PROVIDER_NAME.test(provider))) {
    throw configError('provider', 'a provider name (1-64 characters of A-Z a-z 0-9 . _ -)', provider);
  }
  if (typeof linkRetries !== 'boolean') throw configError('linkRetries', 'a boolean', linkRetries);
  if (fetch !== undefined && typeof fetch !== 'function') throw configError('fetch', 'a fetch function', fetch);

  // Without an explicit provider, look the global one up per request: an app that registers its
  // OTel SDK after calling instrument() is still recorded (the metrics API has no proxy provider).
  const instruments: () => Instruments =
    meterProvider !== undefined
      ? () => instrumentsFor(meterProvider, VERSION)
      : () => instrumentsFor(metrics.getMeterProvider(), VERSION);

  const config: MeterConfig = {
    workload,
    provider,
    injectStreamUsage,
    fetch,
    workloads: new CappedSet(maxWorkloadClasses, () =>
      warnOnce('workload-cap', `more than ${maxWorkloadClasses} workload classes: further ones are recorded as _OTHER (raise maxWorkloadClasses if they are really distinct)`),
    ),
    errorCodes: new CappedSet(MAX_ERROR_CODES, () =>
      warnOnce('error-code-cap', `more than ${MAX_ERROR_CODES} distinct provider error codes: further ones are recorded as _OTHER`),
    ),
    admitErrorCode: (code) => admitErrorCode(config, code),
    recorder: new MetricRecorder(instruments, new PriceBook({ ...DEFAULT_PRICES, ...prices }), slo),
    usageRejectedBy: new Set(),
    linkRetries,
    linker: new RetryLinker(),
  };
  return config;
}

/** Bounds a provider error code for `error.type`; an unusable one becomes `_OTHER`. */
export function admitErrorCode(config: MeterConfig, code: string): string {
  return ERROR_CODE.test(code) ? config.errorCodes.admit(code) : OTHER;
}
