/**
 * One streamed Gemini answer as an app would make it with @google/genai: read the chunks to the
 * end, collect the text, and give up (abort) when the stream goes quiet for too long.
 */
import type { GenerateContentParameters, GoogleGenAI } from '@google/genai';
import { type CallOutcome, failedOutcome, idleAbort } from './stream-call.ts';

export interface GenerateOptions {
  /** Extra request headers (the simulated provider's request key). */
  readonly headers: Record<string, string>;
  /** Abort when no chunk arrives for this long (also before the first one). */
  readonly idleTimeoutMs: number;
}

/**
 * Streams `generateContentStream` to its end. Never throws for a failed call: an `ApiError`
 * (an HTTP error, or an error chunk inside the stream) is an `error`, an idle timeout is
 * `cancelled`. @google/genai retries nothing unless `httpOptions.retryOptions` says so.
 */
export async function streamGenerate(ai: GoogleGenAI, params: GenerateContentParameters, options: GenerateOptions): Promise<{ outcome: CallOutcome; text: string }> {
  const idle = idleAbort(options.idleTimeoutMs);
  let text = '';
  try {
    idle.arm();
    const stream = await ai.models.generateContentStream({
      ...params,
      config: { ...params.config, abortSignal: idle.signal, httpOptions: { headers: options.headers } },
    });
    for await (const chunk of stream) {
      idle.arm();
      text += chunk.text ?? '';
    }
    return { outcome: idle.signal.aborted ? 'cancelled' : 'success', text };
  } catch {
    return { outcome: failedOutcome(idle), text };
  } finally {
    idle.clear();
  }
}
