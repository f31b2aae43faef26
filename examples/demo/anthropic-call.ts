/**
 * One streamed Anthropic message as an app would make it: read the events to the end, collect
 * the text and any tool calls, and give up (abort) when the stream goes quiet for too long.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsStreaming, ToolUseBlock } from '@anthropic-ai/sdk/resources/messages';
import { type CallOptions, type CallOutcome, failedOutcome, idleAbort } from './stream-call.ts';

export interface MessageResult {
  readonly outcome: CallOutcome;
  readonly text: string;
  /** Complete tool calls, arguments parsed. */
  readonly toolUses: ToolUseBlock[];
}

/**
 * Streams a message to its end. Never throws for a failed call: an SDK error (after the SDK's
 * retries; an `overloaded_error` event inside the stream is one it cannot retry) is an `error`,
 * an idle timeout is `cancelled`.
 */
export async function streamMessage(client: Anthropic, body: MessageCreateParamsStreaming, options: CallOptions): Promise<MessageResult> {
  const idle = idleAbort(options.idleTimeoutMs);
  let text = '';
  const toolUses: ToolUseBlock[] = [];
  const partial = new Map<number, { block: ToolUseBlock; json: string }>();
  try {
    idle.arm();
    const stream = await client.messages.create(body, { headers: options.headers, maxRetries: options.maxRetries, signal: idle.signal });
    for await (const event of stream) {
      idle.arm();
      if (event.type === 'content_block_start' && event.content_block.type === 'tool_use') {
        partial.set(event.index, { block: { ...event.content_block }, json: '' });
      } else if (event.type === 'content_block_delta') {
        if (event.delta.type === 'text_delta') text += event.delta.text;
        else if (event.delta.type === 'input_json_delta') partial.get(event.index)!.json += event.delta.partial_json;
      } else if (event.type === 'content_block_stop' && partial.has(event.index)) {
        const { block, json } = partial.get(event.index)!;
        toolUses.push({ ...block, input: json === '' ? {} : JSON.parse(json) });
      }
    }
    return { outcome: idle.signal.aborted ? 'cancelled' : 'success', text, toolUses };
  } catch {
    return { outcome: failedOutcome(idle), text, toolUses: [] };
  } finally {
    idle.clear();
  }
}
