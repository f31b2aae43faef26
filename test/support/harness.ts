import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { instrument } from '../../src/index.js';
import type { InstrumentOptions } from '../../src/index.js';
import { type Snapshot, collectUntil, createTestMeter } from './metrics.ts';
import { type ScriptedServer, startScriptedServer } from './scripted-server.ts';

/**
 * One scripted server and one real OTel MeterProvider for a test file, with a fresh instrumented
 * `openai` client per call of `client()`. Call inside a `describe` (or at the top of a file).
 */
export function useHarness() {
  let server: ScriptedServer;
  let meter = createTestMeter();
  beforeAll(async () => {
    server = await startScriptedServer();
    // Warm up the JIT, the SDK and the connection pool, so the first timed request of a file
    // measures the server and not module loading.
    const warm = createTestMeter();
    const client = instrument(new OpenAI({ baseURL: server.baseURL, apiKey: 'k', maxRetries: 0 }), { meterProvider: warm.meterProvider });
    for (let i = 0; i < 3; i++) for await (const _ of await client.chat.completions.create({ ...CHAT, stream: true }));
    await warm.shutdown();
    server.reset();
  });
  afterEach(async () => {
    server.reset();
    await meter.shutdown();
    meter = createTestMeter();
  });
  afterAll(async () => {
    await server.close();
    await meter.shutdown();
  });
  return {
    get server() {
      return server;
    },
    /** A bare openai client against the scripted server (no inferometer). */
    bare(options: ConstructorParameters<typeof OpenAI>[0] = {}) {
      return new OpenAI({ baseURL: server.baseURL, apiKey: 'test-key', maxRetries: 0, ...options });
    },
    /** An instrumented openai client against the scripted server, recording to this file's meter. */
    client(options: InstrumentOptions = {}, clientOptions: ConstructorParameters<typeof OpenAI>[0] = {}) {
      return instrument(this.bare(clientOptions), { meterProvider: meter.meterProvider, ...options });
    },
    get meterProvider() {
      return meter.meterProvider;
    },
    collect(): Promise<Snapshot> {
      return meter.collect();
    },
    /** Collects until `n` requests have finished (records end when bodies end, asynchronously). */
    finished(n = 1): Promise<Snapshot> {
      return collectUntil(meter, (s) => s.sum('inferometer.requests') >= n);
    },
  };
}

export const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Say hello' }] };
