import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/* examples/ai-sdk runs as its README says, on the demo's simulated provider, and reports what it recorded. */

describe('examples/ai-sdk', () => {
  it('meters the AI SDK calls per workload class, retries as attempts (npm test builds dist first)', () => {
    const out = execFileSync(process.execPath, ['examples/ai-sdk/main.ts', '--requests', '6'], {
      encoding: 'utf8',
      env: { ...process.env, OPENAI_API_KEY: '' },
      timeout: 60_000,
    });
    const rows = Object.fromEntries(
      out.split('\n').filter((l) => /^(assistant|batch) /.test(l)).map((l) => {
        const [name, success, error, cancelled, attempts] = l.trim().split(/\s+/);
        return [name, { requests: Number(success) + Number(error) + Number(cancelled), attempts: Number(attempts) }];
      }),
    );
    // 6 calls: 2 streamed answers and 2 tool-enabled calls of `assistant` (one request each where the
    // model answers at once, as the simulated one does; two where it calls the tool), 2 summaries of `batch`.
    expect(rows['assistant']?.requests).toBeGreaterThanOrEqual(4);
    expect(rows['assistant']?.requests).toBeLessThanOrEqual(6);
    expect(rows['batch']?.requests).toBe(2);
    expect(rows['assistant']!.attempts).toBeGreaterThanOrEqual(rows['assistant']!.requests);
  });
});
