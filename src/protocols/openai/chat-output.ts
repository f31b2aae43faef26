/*
 * What counts as generated output in a chat or legacy completions chunk: content, refusal,
 * reasoning, audio, and tool-call arguments, as OpenAI and the OpenAI-compatible servers stream
 * them. A role-only chunk, a finish-only chunk, a usage-only chunk and a tool call's header (its
 * id and name, with no argument text yet) are not.
 */

/** Whether a choice of a chunk carries generated output. */
export function carriesOutput(choice: unknown): boolean {
  if (typeof choice !== 'object' || choice === null) return false;
  const c = choice as Record<string, unknown>;
  if (nonEmpty(c['text'])) return true; // legacy completions
  const delta = c['delta'];
  if (typeof delta !== 'object' || delta === null) return false;
  const d = delta as Record<string, unknown>;
  return (
    hasText(d['content']) ||
    nonEmpty(d['refusal']) ||
    nonEmpty(d['reasoning_content']) ||
    hasText(d['reasoning']) ||
    toolArguments(d['tool_calls']) ||
    (typeof d['function_call'] === 'object' && d['function_call'] !== null && nonEmpty((d['function_call'] as Record<string, unknown>)['arguments'])) ||
    (typeof d['audio'] === 'object' && d['audio'] !== null)
  );
}

/** Whether a choice gives a finish_reason. */
export function finished(choice: unknown): boolean {
  return typeof choice === 'object' && choice !== null && typeof (choice as Record<string, unknown>)['finish_reason'] === 'string';
}

/** Text, or Mistral's typed content parts (`[{type:"thinking",thinking:[{type:"text",text}]}, {type:"text",text}]`) with some text. */
function hasText(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.length > 0;
  if (!Array.isArray(value) || depth > 2) return false;
  for (const part of value) {
    if (typeof part !== 'object' || part === null) continue;
    const p = part as Record<string, unknown>;
    if (nonEmpty(p['text']) || hasText(p['thinking'], depth + 1) || hasText(p['content'], depth + 1)) return true;
  }
  return false;
}

/** Tool-call deltas with argument text (a call's header alone, `"arguments":""`, is not output). */
function toolArguments(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const call of value) {
    const fn = typeof call === 'object' && call !== null ? (call as Record<string, unknown>)['function'] : undefined;
    if (typeof fn === 'object' && fn !== null && nonEmpty((fn as Record<string, unknown>)['arguments'])) return true;
  }
  return false;
}

function nonEmpty(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}
