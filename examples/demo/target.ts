/**
 * Where the demo's traffic goes: the embedded simulated provider (a scripted OpenAI-compatible
 * server on 127.0.0.1), or the real provider named by the environment.
 */
import OpenAI from 'openai';
import { startScriptedServer } from '../../test/support/scripted-server.ts';
import type { Target } from './options.ts';
import { type Incident, simulatedProvider } from './provider-script.ts';

export interface OpenTarget {
  /** A plain openai client for the target (the demo instruments it). */
  readonly client: OpenAI;
  readonly models: { readonly chat: string; readonly batch: string; readonly agent: string };
  /** How long the app lets a stream stay silent before it aborts it. */
  readonly idleTimeoutMs: number;
  /** One line saying where the traffic goes. */
  readonly description: string;
  close(): Promise<void>;
}

/**
 * Scheduled incidents, so that even a short run shows them: the 4th chat answer stalls mid-stream
 * (the app aborts it) and the 6th batch document loses its connection mid-stream.
 */
const INCIDENTS: Readonly<Record<string, Incident>> = { 'chat-3': 'stall', 'batch-5': 'disconnect' };
/** Longer than any honest silence of the simulated provider (TTFT <= 2.4 s, pauses <= 0.5 s), at time scale 1. */
const SIMULATED_IDLE_TIMEOUT_MS = 3000;
const REAL_IDLE_TIMEOUT_MS = 30_000;

/** Starts the simulated provider, or connects to the real one. */
export async function openTarget(target: Target): Promise<OpenTarget> {
  if (target.kind === 'real') {
    // Reads OPENAI_API_KEY and OPENAI_BASE_URL, as every app using the SDK does.
    const client = new OpenAI();
    const m = target.model;
    return {
      client,
      models: { chat: m, batch: m, agent: m },
      idleTimeoutMs: REAL_IDLE_TIMEOUT_MS,
      description: `real provider at ${client.baseURL}, model ${m}`,
      close: async () => {},
    };
  }
  const server = await startScriptedServer();
  server.setFallback(simulatedProvider({ seed: target.seed, timeScale: target.timeScale, incidents: INCIDENTS }));
  const scale = target.timeScale === 1 ? '' : `, times x${target.timeScale}`;
  return {
    client: new OpenAI({ baseURL: server.baseURL, apiKey: 'demo-key' }),
    models: { chat: 'gpt-4o-mini', batch: 'gpt-4o-mini', agent: 'gpt-4o' },
    idleTimeoutMs: SIMULATED_IDLE_TIMEOUT_MS * target.timeScale,
    description: `simulated OpenAI-compatible provider at ${server.baseURL} (seed ${target.seed}${scale})`,
    close: () => server.close(),
  };
}
