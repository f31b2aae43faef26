import * as sc from '../semconv.js';

/** How the body of the response is read. */
export type ResponseFormat = 'chat' | 'responses';

/** What inferometer learns about a request before sending it. */
export interface DescribedRequest {
  readonly url: URL;
  readonly operation: string;
  /** Chat-style SSE (chat completions, legacy completions) or Responses-style SSE (`event:` framed). */
  readonly format: ResponseFormat;
  readonly model: string | undefined;
  readonly stream: boolean;
  /** The parsed JSON body, when the body is a JSON string (as the openai SDK sends it). */
  readonly body: Record<string, unknown> | undefined;
  /**
   * Input tokens guessed from the prompt's characters (4 per token), for requests that end
   * without usage; undefined when the body has no prompt text.
   */
  readonly estimatedInputTokens: number | undefined;
}

const OPERATIONS: ReadonlyArray<readonly [suffix: string, operation: string, format: ResponseFormat]> = [
  ['/chat/completions', sc.OPERATION_CHAT, 'chat'],
  ['/responses', sc.OPERATION_CHAT, 'responses'],
  ['/completions', sc.OPERATION_TEXT_COMPLETION, 'chat'],
  ['/embeddings', sc.OPERATION_EMBEDDINGS, 'chat'],
];

/**
 * Describes a request to one of the metered endpoints (POST chat completions, Responses, legacy
 * completions, embeddings), or returns undefined for anything else, which then passes through
 * untouched and unmetered.
 */
export function describeRequest(url: string, method: string, body: unknown): DescribedRequest | undefined {
  if (method.toUpperCase() !== 'POST') return undefined;
  const parsedUrl = new URL(url);
  const path = parsedUrl.pathname.endsWith('/') ? parsedUrl.pathname.slice(0, -1) : parsedUrl.pathname;
  const route = OPERATIONS.find(([suffix]) => path.endsWith(suffix));
  if (route === undefined) return undefined;
  const json = parseJsonObject(body);
  const model = typeof json?.['model'] === 'string' ? json['model'] : undefined;
  return {
    url: parsedUrl,
    operation: route[1],
    format: route[2],
    model,
    stream: json?.['stream'] === true,
    body: json,
    estimatedInputTokens: json === undefined ? undefined : estimateInputTokens(json),
  };
}

/** The prompt-carrying members of chat completions, Responses, legacy completions and embeddings. */
const PROMPT_KEYS = ['messages', 'input', 'prompt', 'instructions'] as const;
const CHARS_PER_TOKEN = 4;

function estimateInputTokens(body: Record<string, unknown>): number | undefined {
  let chars = 0;
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === 'string') chars += value.length;
    else if (depth < 8 && typeof value === 'object' && value !== null) {
      for (const v of Array.isArray(value) ? value : Object.values(value)) walk(v, depth + 1);
    }
  };
  for (const key of PROMPT_KEYS) walk(body[key], 0);
  return chars === 0 ? undefined : Math.ceil(chars / CHARS_PER_TOKEN);
}

function parseJsonObject(body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== 'string' || body.charCodeAt(0) !== 123 /* { */) return undefined;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `stream_options.include_usage` may be added: a chat or legacy completions stream that did not set it. */
export function canInjectUsage(request: DescribedRequest): boolean {
  if (!request.stream || request.format !== 'chat' || request.body === undefined) return false;
  if (request.operation === sc.OPERATION_EMBEDDINGS) return false;
  const options = request.body['stream_options'];
  if (options === undefined || options === null) return true;
  return typeof options === 'object' && (options as Record<string, unknown>)['include_usage'] === undefined;
}

/** The body with `stream_options.include_usage: true` added. */
export function withUsageRequested(body: Record<string, unknown>): string {
  const options = body['stream_options'];
  const merged = typeof options === 'object' && options !== null ? { ...options, include_usage: true } : { include_usage: true };
  return JSON.stringify({ ...body, stream_options: merged });
}

const PROVIDERS: ReadonlyArray<readonly [hostSuffix: string, provider: string]> = [
  ['api.openai.com', 'openai'],
  ['.openai.azure.com', 'azure.ai.openai'],
  ['.services.ai.azure.com', 'azure.ai.inference'],
  ['api.groq.com', 'groq'],
  ['api.deepseek.com', 'deepseek'],
  ['api.mistral.ai', 'mistral_ai'],
  ['api.x.ai', 'x_ai'],
  ['api.perplexity.ai', 'perplexity'],
  ['api.anthropic.com', 'anthropic'],
  ['generativelanguage.googleapis.com', 'gcp.gemini'],
];

/** `gen_ai.provider.name` for a host: a known cloud by its host name, else `fallback`. */
export function providerOf(hostname: string, fallback: string): string {
  for (const [suffix, provider] of PROVIDERS) {
    if (hostname === suffix || hostname.endsWith(suffix)) return provider;
  }
  return fallback;
}

/** `server.port`: the URL's port, or the scheme's default. */
export function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'http:' ? 80 : 443;
}
