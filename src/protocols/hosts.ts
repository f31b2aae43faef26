/*
 * `gen_ai.provider.name` from the host a request goes to. The host names the provider; the
 * protocol does not (vLLM, Ollama, LiteLLM, Groq, DeepSeek and Gemini's `/openai/` endpoint all
 * speak OpenAI chat). Values are the GenAI conventions' well-known names.
 */

const HOSTS: ReadonlyArray<readonly [host: RegExp, provider: string]> = [
  [/(^|\.)api\.openai\.com$/, 'openai'],
  [/\.openai\.azure\.com$/, 'azure.ai.openai'],
  [/\.services\.ai\.azure\.com$/, 'azure.ai.inference'],
  [/(^|\.)api\.groq\.com$/, 'groq'],
  [/(^|\.)api\.deepseek\.com$/, 'deepseek'],
  [/(^|\.)api\.mistral\.ai$/, 'mistral_ai'],
  [/(^|\.)api\.x\.ai$/, 'x_ai'],
  [/(^|\.)api\.perplexity\.ai$/, 'perplexity'],
  [/(^|\.)api\.anthropic\.com$/, 'anthropic'],
  [/(^|\.)generativelanguage\.googleapis\.com$/, 'gcp.gemini'],
  [/(^|[.-])aiplatform(\.[a-z0-9-]+\.rep)?\.googleapis\.com$/, 'gcp.vertex_ai'],
  [/^bedrock-runtime(-fips)?\.[a-z0-9-]+\.amazonaws\.com$/, 'aws.bedrock'],
];

/** The provider of a known host, else `fallback`. Looked up once per request, never per chunk. */
export function providerOf(hostname: string, fallback: string): string {
  for (const [host, provider] of HOSTS) if (host.test(hostname)) return provider;
  return fallback;
}

/** `server.port`: the URL's port, or the scheme's default. */
export function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'http:' ? 80 : 443;
}
