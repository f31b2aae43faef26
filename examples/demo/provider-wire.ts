/**
 * The simulated provider's two ends of each protocol: what a request asks for (read from an
 * OpenAI chat, Anthropic Messages or Gemini generateContent body), and the scripted server's
 * script for the turn the dice decided (an OpenAI `chat-stream`, an `anthropic-stream` or a
 * `gemini-stream`). No dice here: `provider-script.ts` draws, this module only translates.
 */
import { geminiTarget } from '../../test/support/scripted-server-gemini.ts';
import type { Protocol } from '../../test/support/scripted-server-routes.ts';
import type { RecordedRequest, Script } from '../../test/support/scripted-server.ts';

/** What a request asks for, whatever its protocol. */
export interface Ask {
  readonly model: string;
  /** The request's output token limit. */
  readonly maxTokens: number;
  /** The whole prompt, cached part included (about 4 characters per token). */
  readonly inputTokens: number;
  /** Anthropic: tokens of the prompt prefix the app marked with `cache_control` (tools and system). */
  readonly cacheableTokens: number;
  /** The first offered tool the conversation has no result for yet. */
  readonly nextTool?: { readonly name: string; readonly fields: readonly string[] };
  /** Gemini: `thinkingConfig.thinkingBudget`. */
  readonly thinkingBudget?: number;
}

/** One answer as the dice decided it, in no protocol yet. Times in ms after the request arrived. */
export interface Turn {
  readonly model: string;
  readonly headersMs: number;
  /** Extra response headers: the rate limits and the processing time, in the protocol's dialect. */
  readonly headers: Readonly<Record<string, string>>;
  readonly ttftMs: number;
  readonly gapMs: number[];
  /** Text pieces, or tool-call argument pieces when `tool` is set: one output chunk each. */
  readonly chunks: string[];
  readonly tool?: string;
  readonly input: { readonly total: number; readonly cacheRead: number; readonly cacheWrite: number };
  /** Visible output tokens (text or tool arguments). */
  readonly output: number;
  /** Gemini: reasoning tokens, billed as output, never streamed. */
  readonly thoughts: number;
  /** What goes wrong after this many output chunks, if anything. */
  readonly cut?: { readonly after: number; readonly how: 'stall' | 'disconnect' | 'stream-error' };
}

type Json = Record<string, unknown>;
const tokensOf = (value: unknown): number => Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));
const asArray = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);
const bodyOf = (req: RecordedRequest): Json => (typeof req.body === 'object' && req.body !== null ? (req.body as Json) : {});
const fieldsOf = (schema: unknown): string[] => Object.keys(((schema as Json | undefined)?.['properties'] as Json | undefined) ?? { query: true });

/** Reads what a request asks for, from the body of its protocol. */
export function readAsk(protocol: Protocol, req: RecordedRequest): Ask {
  const body = bodyOf(req);
  switch (protocol) {
    case 'openai': {
      const messages = asArray(body['messages']);
      const done = messages.filter((m) => m['role'] === 'tool').length;
      const tool = asArray(body['tools'])[done]?.['function'] as Json | undefined;
      return {
        model: String(body['model'] ?? ''),
        maxTokens: Number(body['max_completion_tokens'] ?? body['max_tokens'] ?? 256),
        inputTokens: tokensOf(messages),
        cacheableTokens: 0,
        ...(tool !== undefined ? { nextTool: { name: String(tool['name']), fields: fieldsOf(tool['parameters']) } } : {}),
      };
    }
    case 'anthropic': {
      const messages = asArray(body['messages']);
      const done = messages.flatMap((m) => asArray(m['content'])).filter((block) => block['type'] === 'tool_result').length;
      const tools = asArray(body['tools']);
      const tool = tools[done];
      const system = body['system'];
      // Anthropic caches the prefix up to the last block marked `cache_control` (tools come first, then system).
      const marked = [...tools, ...asArray(system)].some((block) => block['cache_control'] !== undefined);
      return {
        model: String(body['model'] ?? ''),
        maxTokens: Number(body['max_tokens'] ?? 256),
        inputTokens: tokensOf([tools, system, messages]),
        cacheableTokens: marked ? tokensOf([tools, system]) : 0,
        ...(tool !== undefined ? { nextTool: { name: String(tool['name']), fields: fieldsOf(tool['input_schema']) } } : {}),
      };
    }
    case 'gemini': {
      const config = (body['generationConfig'] ?? {}) as Json;
      const budget = (config['thinkingConfig'] as Json | undefined)?.['thinkingBudget'];
      return {
        model: geminiTarget(req.path)?.model ?? '',
        maxTokens: Number(config['maxOutputTokens'] ?? 256),
        inputTokens: tokensOf([body['systemInstruction'], body['contents']]),
        cacheableTokens: 0,
        ...(typeof budget === 'number' ? { thinkingBudget: budget } : {}),
      };
    }
  }
}

/** The scripted server's script for a turn, in the protocol of the request. */
export function render(protocol: Protocol, turn: Turn): Script {
  const timing = {
    headersMs: turn.headersMs,
    headers: { ...turn.headers },
    ttftMs: turn.ttftMs,
    gapMs: turn.gapMs,
    ...(turn.cut?.how === 'stall' ? { stallAfter: turn.cut.after } : {}),
    ...(turn.cut?.how === 'disconnect' ? { disconnectAfter: turn.cut.after } : {}),
  };
  const streamError = turn.cut?.how === 'stream-error' ? turn.cut.after : undefined;
  switch (protocol) {
    case 'openai':
      return {
        kind: 'chat-stream',
        model: turn.model,
        ...timing,
        chunks: turn.chunks,
        usage: { input: turn.input.total, output: turn.output },
        ...(turn.tool !== undefined ? { toolCall: { name: turn.tool } } : {}),
        ...(streamError !== undefined ? { errorAfter: { chunks: streamError } } : {}),
      };
    case 'anthropic':
      return {
        kind: 'anthropic-stream',
        model: turn.model,
        ...timing,
        blocks: [turn.tool !== undefined ? { type: 'tool_use', name: turn.tool, chunks: turn.chunks } : { type: 'text', chunks: turn.chunks }],
        // Anthropic's input_tokens leaves out the cache: reads and writes are counted apart.
        startUsage: {
          input_tokens: turn.input.total - turn.input.cacheRead - turn.input.cacheWrite,
          cache_read_input_tokens: turn.input.cacheRead,
          cache_creation_input_tokens: turn.input.cacheWrite,
          cache_creation: { ephemeral_5m_input_tokens: turn.input.cacheWrite, ephemeral_1h_input_tokens: 0 },
        },
        usage: { output_tokens: turn.output },
        ...(streamError !== undefined ? { errorAfter: { chunks: streamError, type: 'overloaded_error', message: 'Overloaded' } } : {}),
      };
    case 'gemini':
      return {
        kind: 'gemini-stream',
        modelVersion: turn.model,
        ...timing,
        chunks: turn.chunks,
        // A cumulative snapshot on every chunk; thoughts are output but not in candidatesTokenCount.
        usage: { promptTokenCount: turn.input.total, candidatesTokenCount: turn.output, thoughtsTokenCount: turn.thoughts },
        ...(streamError !== undefined ? { errorAfter: { chunks: streamError, code: 503 } } : {}),
      };
  }
}
