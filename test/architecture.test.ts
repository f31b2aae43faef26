import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * The protocol seam, kept by a test: the generic layers (fetch wrapper, body tap, SSE framing,
 * timing record, metrics, cost, SLO) know no wire protocol. Only src/protocols/ may speak of a
 * provider's routes and JSON; the generic layers reach it through its interface and registry.
 */

const SRC = join(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const GENERIC = files(SRC)
  .map((f) => relative(SRC, f))
  .filter((f) => /^(fetch|stream|request|metrics|slo)\//.test(f) || ['record.ts', 'usage.ts', 'cost/price-book.ts', 'cost/validate-prices.ts'].includes(f));

/** Route and JSON vocabulary of the protocols inferometer speaks; none of it belongs in a generic layer. */
const PROTOCOL_WORDS = [
  'choices', 'finish_reason', '[DONE]', 'stream_options', 'include_usage', 'prompt_tokens', 'completion_tokens', 'input_tokens',
  'output_tokens', 'response.completed', '.delta', '/chat/completions', '/responses', '/embeddings', '/messages', 'message_start',
  'message_delta', 'content_block', 'usageMetadata', 'candidates', 'generateContent', 'promptTokenCount', 'cache_read', '"usage"',
];

/** What a generic layer may import from src/protocols/: the interface, the registry, host naming. */
const SEAM = new Set(['protocols/protocol.ts', 'protocols/index.ts', 'protocols/hosts.ts']);

describe('the protocol seam', () => {
  it('has generic layers to check', () => {
    expect(GENERIC).toEqual(expect.arrayContaining(['fetch/metered-fetch.ts', 'stream/sse-reader.ts', 'stream/body-tap.ts', 'record.ts', 'metrics/recorder.ts', 'request/describe.ts']));
  });

  it.each(GENERIC)('%s names no protocol route or JSON field', (file) => {
    const text = readFileSync(join(SRC, file), 'utf8');
    expect(PROTOCOL_WORDS.filter((word) => text.includes(word))).toEqual([]);
  });

  it.each(GENERIC)('%s imports from src/protocols/ only its interface, registry and host naming', (file) => {
    const text = readFileSync(join(SRC, file), 'utf8');
    const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]!).filter((i) => i.startsWith('.'));
    const resolved = imports.map((i) => relative(SRC, join(SRC, file, '..', i)).replace(/\.js$/, '.ts'));
    expect(resolved.filter((r) => r.startsWith('protocols/') && !SEAM.has(r))).toEqual([]);
  });

  /**
   * The one exception: Bedrock's InvokeModel streams carry Anthropic Messages events for Claude
   * models, which must mean what they mean on Anthropic's API, so it reads them with
   * anthropic.ts's reader rather than a copy that could drift.
   */
  const ALLOWED = new Set(['protocols/bedrock/invoke.ts -> protocols/anthropic.ts']);

  it('every protocol module speaks for itself: no protocol imports another', () => {
    const protocols = files(join(SRC, 'protocols')).map((f) => relative(SRC, f));
    for (const file of protocols.filter((f) => !SEAM.has(f) && !f.includes('json-lookup') && !f.includes('route'))) {
      const family = file.split('/')[1]!.replace(/\.ts$/, '');
      const text = readFileSync(join(SRC, file), 'utf8');
      const others = [...text.matchAll(/from '([^']+)'/g)]
        .map((m) => relative(SRC, join(SRC, file, '..', m[1]!)).replace(/\.js$/, '.ts'))
        .filter((r) => r.startsWith('protocols/') && !SEAM.has(r) && !r.includes('json-lookup') && !r.includes('route') && !r.startsWith(`protocols/${family}`))
        .filter((r) => !ALLOWED.has(`${file} -> ${r}`));
      expect({ file, others }).toEqual({ file, others: [] });
    }
  });
});
