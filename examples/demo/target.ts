/**
 * Where the demo's traffic goes: the embedded simulated provider (a scripted server on 127.0.0.1
 * that speaks OpenAI chat completions, Anthropic Messages and Gemini), or the real OpenAI-compatible
 * provider named by the environment.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startScriptedServer } from '../../test/support/scripted-server.ts';
import type { Target } from './options.ts';
import { type Incident, simulatedProvider } from './provider-script.ts';

export interface OpenTarget {
  /** A plain openai client for the target (the demo instruments it). */
  readonly client: OpenAI;
  /** The model of each workload (`agent`: on `anthropic` when there is one). */
  readonly models: { readonly chat: string; readonly batch: string; readonly agent: string };
  /** A plain Anthropic client for the target's Messages endpoint, if it has one (the demo instruments it). */
  readonly anthropic?: Anthropic;
  /** The target's Gemini endpoint, if it has one: the demo builds a GoogleGenAI client with meteredFetch() for it. */
  readonly gemini?: { readonly baseUrl: string; readonly apiKey: string; readonly model: string };
  /** How long the app lets a stream stay silent before it aborts it. */
  readonly idleTimeoutMs: number;
  /** One line saying where the traffic goes. */
  readonly description: string;
  close(): Promise<void>;
}

/**
 * Scheduled incidents, so that even a short run shows them: the 4th chat answer stalls mid-stream
 * (the app aborts it), the 5th batch document (openai) loses its connection mid-stream, the 6th
 * (Gemini) gets a 503 error chunk mid-stream, and the first turn of the 2nd agent task (Anthropic)
 * an `overloaded_error` event.
 */
const INCIDENTS: Readonly<Record<string, Incident>> = {
  'chat-3': 'stall',
  'batch-4': 'disconnect',
  'batch-5': 'stream-error',
  'agent-1.0': 'stream-error',
};
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
    models: { chat: 'gpt-4o-mini', batch: 'gpt-4o-mini', agent: 'claude-sonnet-4-6' },
    // The SDK appends /v1/messages; @google/genai appends /v1/models/{model}:streamGenerateContent.
    anthropic: new Anthropic({ baseURL: server.origin, apiKey: 'demo-key' }),
    gemini: { baseUrl: server.origin, apiKey: 'demo-key', model: 'gemini-2.5-flash' },
    idleTimeoutMs: SIMULATED_IDLE_TIMEOUT_MS * target.timeScale,
    description: `simulated provider at ${server.origin} (OpenAI, Anthropic and Gemini APIs; seed ${target.seed}${scale})`,
    close: () => server.close(),
  };
}
