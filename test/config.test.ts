import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { InferometerConfigError, instrument, meteredFetch } from '../src/index.js';

const client = () => new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' });

describe('options are validated up front, with messages that say what was expected and what was given', () => {
  it.each([
    [{ workload: 42 }, 'Expected `workload` to be a workload class name (1-64 characters of A-Z a-z 0-9 . _ - : /) or a function of the request, got `42` (number)'],
    [{ meterProvider: {} }, 'Expected `meterProvider` to be an OpenTelemetry MeterProvider (an object with getMeter()), got `{}` (object)'],
    [{ injectStreamUsage: 'yes' }, 'Expected `injectStreamUsage` to be a boolean, got `"yes"` (string)'],
    [{ maxWorkloadClasses: 0 }, 'Expected `maxWorkloadClasses` to be an integer from 1 to 10000, got `0` (number)'],
    [{ maxWorkloadClasses: 2.5 }, 'Expected `maxWorkloadClasses` to be an integer from 1 to 10000, got `2.5` (number)'],
    [{ provider: 'has space' }, 'Expected `provider` to be a provider name (1-64 characters of A-Z a-z 0-9 . _ -), got `"has space"` (string)'],
    [{ prices: [] }, 'Expected `prices` to be an object of model name -> { input, output, cachedInput? } (USD per million tokens), got `[]` (array)'],
    [{ prices: { m: { input: -1, output: 1 } } }, 'Expected `prices["m"].input` to be a number from 0 to 100000 (USD per million tokens), got `-1` (number)'],
    [{ prices: { m: { input: 1, output: Number.NaN } } }, 'Expected `prices["m"].output` to be a number from 0 to 100000 (USD per million tokens), got `NaN` (number)'],
    [{ prices: { m: { input: 1, output: 1, cachedInput: '0.5' } } }, 'Expected `prices["m"].cachedInput` to be a number from 0 to 100000 (USD per million tokens), got `"0.5"` (string)'],
    [{ slo: { chat: { timeToFirstToken: 800 } } }, 'Expected `slo["chat"].timeToFirstToken` to be a number > 0 and <= 300 (seconds), got `800` (number); objectives are in seconds: for 800 milliseconds write 0.8'],
    [{ workloads: 'chat' }, 'Unknown option `workloads`; the options are `workload`, `meterProvider`, `prices`, `slo`, `injectStreamUsage`, `maxWorkloadClasses`, `provider`'],
  ])('instrument(client, %j)', (options, message) => {
    expect(() => instrument(client(), options as never)).toThrow(new InferometerConfigError(message));
  });

  it('rejects something that is not a client it knows', () => {
    expect(() => instrument({} as never)).toThrow(/Expected `client` to be an openai client \(openai \^5 \|\| \^6 \|\| \^7: OpenAI, AzureOpenAI\), an Anthropic client/);
  });

  it('meteredFetch takes a fetch, and rejects one that is not a function', () => {
    expect(typeof meteredFetch({ fetch: globalThis.fetch })).toBe('function');
    expect(() => meteredFetch({ fetch: 'no' as never })).toThrow('Expected `fetch` to be a fetch function, got `"no"` (string)');
  });

  it('leaves the given client untouched', () => {
    const original = client();
    const fetchOf = (c: OpenAI) => (c as unknown as { fetch: unknown }).fetch;
    const fetchBefore = fetchOf(original);
    const metered = instrument(original);
    expect(metered).not.toBe(original);
    expect(metered).toBeInstanceOf(OpenAI);
    expect(fetchOf(original)).toBe(fetchBefore);
  });
});
