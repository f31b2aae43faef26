export { instrument } from './instrument.js';
export { meteredFetch } from './metered-fetch.js';
export { withWorkload } from './workload/scope.js';
export { InferometerConfigError } from './errors.js';
export { DEFAULT_PRICES, DEFAULT_PRICES_DATE } from './cost/openai-prices.js';
export { SLO_PRESETS } from './slo/objectives.js';
export * from './semconv.js';
export type { InstrumentOptions, MeterOptions, ModelPrice, Objectives, PriceTable, RequestDescription, WorkloadOption } from './types.js';
