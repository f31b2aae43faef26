import { instrumentBedrock, isBedrockRuntimeClient } from './bedrock.js';
import { resolveConfig } from './config.js';
import { reportInternalError, warnOnce } from './diag.js';
import { InferometerConfigError, configError } from './errors.js';
import { classifySdkError } from './fetch/classify.js';
import { createMeteredFetch } from './fetch/metered-fetch.js';
import { type RetryScope, currentRetryScope, runInRetryScope } from './request/retry-scope.js';
import { OTHER } from './semconv.js';
import type { InstrumentOptions, MeterOptions } from './types.js';

/**
 * The parts of a Stainless-generated SDK client (openai v5, v6, v7; @anthropic-ai/sdk) that
 * instrument() relies on: a `fetch` option kept by `withOptions()`, and `makeRequest()`, which
 * calls itself for every retry.
 */
interface StainlessClientLike {
  fetch: typeof globalThis.fetch;
  withOptions(options: { fetch: typeof globalThis.fetch }): StainlessClientLike;
  makeRequest?: (...args: unknown[]) => Promise<unknown>;
}

const SUPPORTED = 'an openai client (openai ^5 || ^6 || ^7: OpenAI, AzureOpenAI), an Anthropic client (@anthropic-ai/sdk) or an AWS Bedrock Runtime client (@aws-sdk/client-bedrock-runtime)';

const instrumented = new WeakSet<object>();

/**
 * Returns a copy of an SDK client, of the same class, whose calls are metered: an `openai`
 * client (v5, v6 or v7; also `AzureOpenAI`), an `@anthropic-ai/sdk` client, or an
 * `@aws-sdk/client-bedrock-runtime` client (its middleware stack: it sends without fetch). The copy sends
 * through the client's own fetch (a custom `fetch` option stays underneath); every call returns
 * the SDK's own objects (`APIPromise`, `Stream`, `MessageStream`, helpers). The original client is
 * left as it was.
 *
 * Retries are seen as what they are: the attempts of one logical request share one record, so a
 * 429 followed by a success is one successful request of two `inferometer.attempts`, timed from the
 * first attempt.
 *
 * For any other client that takes a `fetch` (the Vercel AI SDK's providers, `@google/genai`,
 * LangChain), use {@link meteredFetch}.
 *
 * @throws InferometerConfigError when an option is invalid or `client` is not one of these
 * @example
 * const openai = instrument(new OpenAI(), { workload: 'chat' });
 * const anthropic = instrument(new Anthropic(), { workload: 'agent' });
 * const bedrock = instrument(new BedrockRuntimeClient({ region: 'us-east-1' }), { workload: 'batch' });
 */
export function instrument<T extends object>(client: T, options?: InstrumentOptions): T {
  const config = resolveConfig(options as MeterOptions | undefined, false);
  if (isBedrockRuntimeClient(client)) return instrumentBedrock(client, config);
  if (isLangChain(client)) {
    // LangChain builds its own SDK client from its options: a client set on the model afterwards
    // (`model.client = instrument(…)`) is silently replaced, so the one way in is its fetch.
    throw new InferometerConfigError(
      `Expected \`client\` to be ${SUPPORTED}, got a LangChain model (\`${className(client)}\`); give the model a metered fetch instead: new ChatOpenAI({ configuration: { fetch: meteredFetch() } }) or new ChatAnthropic({ clientOptions: { fetch: meteredFetch() } })`,
    );
  }
  const c = client as unknown as StainlessClientLike;
  if (typeof c !== 'object' || c === null || typeof c.withOptions !== 'function' || typeof c.fetch !== 'function') {
    throw configError('client', `${SUPPORTED} with \`withOptions()\` and \`fetch\``, client);
  }
  if (!isOpenAI(c) && !isAnthropic(c)) {
    // Another SDK of the same family (with withOptions() and fetch too): metering its copy could
    // record nothing, silently.
    throw new InferometerConfigError(
      `Expected \`client\` to be ${SUPPORTED}, got an instance of \`${className(client)}\`, which instrument() does not know; if it takes a \`fetch\` option, give it meteredFetch()`,
    );
  }
  if (instrumented.has(c)) {
    warnOnce('instrument-twice', 'instrument() was given a client it already instruments; it is returned as it is (metering it twice would count every request twice)');
    return client;
  }
  const underlying = c.fetch;
  const copy = c.withOptions({ fetch: createMeteredFetch(config, () => underlying) });
  adopt(copy);
  return copy as unknown as T;
}

function isLangChain(client: unknown): boolean {
  return typeof client === 'object' && client !== null && Array.isArray((client as { lc_namespace?: unknown }).lc_namespace);
}

function isOpenAI(client: object): boolean {
  return typeof (client as { chat?: { completions?: unknown } }).chat?.completions === 'object';
}

function isAnthropic(client: object): boolean {
  return typeof (client as { messages?: { create?: unknown } }).messages?.create === 'function' && !('chat' in client);
}

/**
 * Marks a metered copy and keeps it whole across `withOptions()`: the SDK copies the metered
 * fetch itself (it is in the client's options), and this adds the retry scope to the new copy.
 */
function adopt(client: StainlessClientLike): void {
  meterRetries(client);
  const withOptions = client.withOptions;
  client.withOptions = function meteredWithOptions(this: unknown, options) {
    const next = withOptions.call(this, options);
    if (next.fetch === client.fetch) adopt(next);
    return next;
  };
  instrumented.add(client);
}

/**
 * Opens a retry scope around each logical request of the SDK (its `makeRequest`, which calls
 * itself for every retry, with the id of the request it retries as its third argument), so that the fetch layer links attempts, and ends the request when the
 * SDK gives up. If a future SDK has no `makeRequest`, each attempt is metered as its own request.
 */
function meterRetries(client: StainlessClientLike): void {
  const original = client.makeRequest;
  if (typeof original !== 'function') {
    warnOnce('no-make-request', 'this client has no makeRequest(): its retries are metered as separate requests');
    return;
  }
  client.makeRequest = function meteredMakeRequest(this: unknown, ...args: unknown[]): Promise<unknown> {
    // A retry (its third argument names the request it retries) stays in the scope it runs in.
    if (args[2] !== undefined && currentRetryScope() !== undefined) return original.apply(this, args);
    const timeout = (this as { timeout?: unknown } | null)?.timeout;
    const scope: RetryScope = {
      record: undefined,
      lastFailure: undefined,
      clientTimeoutMs: typeof timeout === 'number' && Number.isFinite(timeout) ? timeout : undefined,
      abortedAttempt: undefined,
    };
    const result = runInRetryScope(scope, () => original.apply(this, args));
    result.then(
      () => scope.abortedAttempt?.('cancelled'),
      (error: unknown) => endFailedScope(scope, error),
    );
    return result;
  };
}

/** The SDK gave up on a request (after its retries, or because the app aborted): end its record. */
function endFailedScope(scope: RetryScope, error: unknown): void {
  try {
    const sdk = classifySdkError(error);
    scope.abortedAttempt?.(sdk?.outcome === 'error' ? (sdk.errorType ?? OTHER) : 'cancelled');
    const record = scope.record;
    if (record === undefined || record.finished) return;
    const last = scope.lastFailure;
    const at = last?.at ?? performance.now();
    const outcome = sdk?.outcome ?? last?.outcome ?? 'error';
    if (outcome === 'error') record.finish('error', last?.errorType ?? sdk?.errorType ?? OTHER, at);
    else record.finish(outcome, undefined, at);
  } catch (failure) {
    reportInternalError('ending a failed request', failure);
  }
}

function className(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name.slice(0, 60) : 'Object';
}
