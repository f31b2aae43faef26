/**
 * Property, for every protocol and client inferometer meters: whatever a provider's recorded
 * stream is, however the network cuts it into pieces (at random bytes, at every byte, inside every
 * CRLF), whether it is cut short or its connection dropped, the app sees through inferometer
 * exactly what it sees through the bare SDK (the same items, the same error at the same point),
 * and inferometer makes exactly one record of it: the outcome the bytes imply, the gauge back to
 * 0, and for a whole stream its output chunks and the usage its last usage report bills.
 *
 * Each case is one fixture (test/fixtures/<protocol>/*.sse, or a generated OpenAI chat stream),
 * served from exact bytes by a loopback server to the bare client, then to the metered one.
 *
 * Size: `FUZZ_RUNS` cases per client (default 100, some 6 s in all; `npm run test:fuzz` runs
 * 10,000). `npm test` replays one fixed seed; reproduce a failure with the seed and path
 * fast-check prints: `FUZZ_SEED=… FUZZ_PATH=…`.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTestMeter } from '../support/metrics.ts';
import { FIXTURES, type Fixture, SUBJECTS, type Subject, type Wire, usageAsked, view, writesOf } from './conformance-support.ts';
import { type AppView, type ByteServer, figures, minus, startByteServer, until } from './support.ts';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 100);
const SEED = process.env['FUZZ_SEED'] ?? (process.env['FUZZ_RUNS'] === undefined ? '20261130' : undefined);
const FC_OPTIONS: fc.Parameters<unknown> = {
  numRuns: RUNS,
  ...(SEED !== undefined ? { seed: Number(SEED) } : {}),
  ...(process.env['FUZZ_PATH'] !== undefined ? { path: process.env['FUZZ_PATH'] } : {}),
};
const TIMEOUT = Math.max(60_000, RUNS * 500);

const wire: fc.Arbitrary<Wire> = fc.record({
  crlf: fc.nat(3).map((n) => n === 0),
  split: fc.constantFrom<Wire['split']>('fractions', 'fractions', 'fractions', 'fractions', 'inside-crlf', 'inside-crlf', 'every-byte'),
  fractions: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 16 }),
  shortAt: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }),
  end: fc.constantFrom<Wire['end']>('end', 'end', 'end', 'end', 'end', 'end', 'destroy'),
});

let server: ByteServer;
beforeAll(async () => {
  server = await startByteServer();
});
afterAll(() => server.close());
const origin = () => new URL(server.baseURL).origin;

describe.each(SUBJECTS)('$name', (subject: Subject) => {
  const fixtures = FIXTURES[subject.protocol];
  const meter = createTestMeter();
  afterAll(() => meter.shutdown());

  it(`sees what the bare SDK sees, and makes one exact record, for ${RUNS} recorded streams cut at random`, async () => {
    const bare = subject.open(origin(), undefined);
    const metered = subject.open(origin(), meter.meterProvider);
    let cases = 0;
    let last = figures(await meter.collect());
    await fc.assert(
      fc.asyncProperty(fc.nat(fixtures.length - 1), wire, async (index, w) => {
        const fixture = fixtures[index]!;
        const served: Uint8Array[][] = [];
        server.handle((req) => {
          const { writes } = writesOf(fixture, subject.protocol, usageAsked(req.body), w);
          served.push(writes);
          return { writes, end: w.end, ...(w.end === 'destroy' ? { endDelayMs: 5 } : {}) };
        });
        const expected = await view(bare);
        const seen = await view(metered);
        cases++;
        const now = figures(await until(() => meter.collect(), (s) => s.sum('inferometer.requests') >= cases));
        const delta = minus(now, last);
        last = now;
        sameView(expected, seen, served);
        checkRecord(delta, fixture, w);
      }),
      FC_OPTIONS,
    );
    // Nothing ends twice, nothing is left under way, also a while after the last case.
    await new Promise((r) => setTimeout(r, 50));
    const s = await meter.collect();
    if (s.sum('inferometer.requests') !== cases || s.sum('inferometer.requests.active') !== 0) {
      throw new Error(`after ${cases} cases: ${s.sum('inferometer.requests')} records, ${s.sum('inferometer.requests.active')} active`);
    }
  }, TIMEOUT);
});

function sameView(bare: AppView, metered: AppView, served: Uint8Array[][]): void {
  if (isDeepStrictEqual(metered, bare)) return;
  let i = 0;
  while (i < bare.items.length && i < metered.items.length && isDeepStrictEqual(bare.items[i], metered.items[i])) i++;
  const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v).slice(0, 400));
  throw new Error(
    'the app sees something else through inferometer.\n' +
      `  bare:    ${bare.items.length} items, then ${show(bare.error)}\n` +
      `  metered: ${metered.items.length} items, then ${show(metered.error)}\n` +
      `  first difference at item ${i}: bare ${show(bare.items[i])}, metered ${show(metered.items[i])}\n` +
      `  writes (bare, then metered): ${JSON.stringify(served.map((ws) => ws.map((b) => Buffer.from(b).toString('latin1')))).slice(0, 3000)}`,
  );
}

/** One case's record, from the change in the meter's figures. */
function checkRecord(delta: Record<string, number>, fixture: Fixture, w: Wire): void {
  const fail = (what: string) => {
    throw new Error(`${fixture.name}: ${what}\n  wire ${JSON.stringify({ ...w, fractions: undefined })}\n  recorded ${JSON.stringify(delta)}`);
  };
  const requests = Object.entries(delta).filter(([k]) => k.startsWith('requests '));
  const total = requests.reduce((n, [, v]) => n + v, 0);
  if (total !== 1) fail(`expected exactly one record, got ${total}`);
  if ((delta['active'] ?? 0) !== 0) fail('the active gauge did not return to 0');
  const outcome = requests[0]![0].slice('requests '.length);
  const expected = w.shortAt === undefined ? fixture.outcome : 'error:stream_interrupted';
  if (outcome !== expected) fail(`outcome ${outcome}, expected ${expected}`);
  if (w.shortAt !== undefined || w.end !== 'end') return;
  // The whole body, ended cleanly: every output chunk counted, and the usage billed as reported.
  const chunks = fixture.outputChunks;
  if ((delta['ttft'] ?? 0) !== (chunks > 0 ? 1 : 0)) fail(`${delta['ttft'] ?? 0} time-to-first-token records for ${chunks} output chunks`);
  if ((delta['chunk gaps'] ?? 0) !== Math.max(0, chunks - 1)) fail(`${delta['chunk gaps'] ?? 0} chunk gaps for ${chunks} output chunks`);
  if (fixture.usage === undefined) return;
  const billed = { input: delta['input tokens'] ?? 0, output: delta['output tokens'] ?? 0, records: [delta['input records'], delta['output records']] };
  if (!isDeepStrictEqual(billed, { ...fixture.usage, records: [1, 1] })) fail(`usage ${JSON.stringify(billed)}, expected ${JSON.stringify(fixture.usage)} in one record each`);
  if ((delta['output estimated records'] ?? 0) + (delta['input estimated records'] ?? 0) !== 0) fail('usage marked estimated although the stream carried it');
}
