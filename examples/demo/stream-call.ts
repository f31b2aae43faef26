/**
 * One streamed openai chat completion as an app would make it: read to the end, collect the text and
 * any tool calls, and give up (abort) when the stream goes quiet for too long.
 */
import type OpenAI from 'openai';
import type { ChatCompletionCreateParamsStreaming, ChatCompletionMessageFunctionToolCall } from 'openai/resources/chat/completions';

/** How a call ended, from the app's side. */
export type CallOutcome = 'success' | 'error' | 'cancelled';

export interface CallResult {
  readonly outcome: CallOutcome;
  readonly text: string;
  readonly toolCalls: ChatCompletionMessageFunctionToolCall[];
  readonly finishReason: string | null;
}

export interface CallOptions {
  /** Extra request headers (the workload header, the simulated provider's request key). */
  readonly headers: Record<string, string>;
  readonly maxRetries: number;
  /** Abort when no chunk arrives for this long (also before the first one). */
  readonly idleTimeoutMs: number;
}

/** An AbortController that fires when `arm()` is not called again within `ms`: the app's idle timeout. */
export interface IdleAbort {
  readonly signal: AbortSignal;
  /** (Re)starts the countdown: call it before the request and on every chunk. */
  arm(): void;
  clear(): void;
}

export function idleAbort(ms: number): IdleAbort {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  return {
    signal: controller.signal,
    arm() {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new Error('stream idle timeout')), ms);
    },
    clear: () => clearTimeout(timer),
  };
}

/** How a failed call ended from the app's side: aborted by its idle timeout, or an error. */
export const failedOutcome = (idle: IdleAbort): CallOutcome => (idle.signal.aborted ? 'cancelled' : 'error');

/**
 * Streams a chat completion to its end. Never throws for a failed call: an SDK error (after the
 * SDK's retries) is an `error`, an idle timeout is `cancelled` (the app aborted it).
 */
export async function streamChat(client: OpenAI, body: ChatCompletionCreateParamsStreaming, options: CallOptions): Promise<CallResult> {
  const idle = idleAbort(options.idleTimeoutMs);
  let text = '';
  let finishReason: string | null = null;
  const calls = new Map<number, ChatCompletionMessageFunctionToolCall>();
  try {
    idle.arm();
    const stream = await client.chat.completions.create(body, {
      headers: options.headers,
      maxRetries: options.maxRetries,
      signal: idle.signal,
    });
    for await (const chunk of stream) {
      idle.arm();
      const choice = chunk.choices[0];
      if (choice === undefined) continue;
      text += choice.delta.content ?? '';
      for (const part of choice.delta.tool_calls ?? []) {
        const call = calls.get(part.index) ?? { id: '', type: 'function', function: { name: '', arguments: '' } };
        call.id ||= part.id ?? '';
        call.function.name ||= part.function?.name ?? '';
        call.function.arguments += part.function?.arguments ?? '';
        calls.set(part.index, call);
      }
      finishReason = choice.finish_reason ?? finishReason;
    }
    // The SDK ends the iteration quietly when the request is aborted.
    const outcome = idle.signal.aborted ? 'cancelled' : 'success';
    return { outcome, text, toolCalls: [...calls.values()], finishReason };
  } catch {
    return { outcome: failedOutcome(idle), text, toolCalls: [], finishReason: null };
  } finally {
    idle.clear();
  }
}
