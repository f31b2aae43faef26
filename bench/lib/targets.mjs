// The issue's targets, checked against the figures of this run (each scenario's summary).
import { table } from './markdown.mjs';

const PEERS = ['otel', 'traceloop', 'openinference', 'openlit'];
const mark = (ok) => (ok === undefined ? 'n/a' : ok ? 'met' : '**not met**');

/** The two inferometer set-ups measured against issue 11's targets: an app's own MeterProvider, and inferometer/sdk's. */
const SETUPS = [
  ['inferometer@7', 'app MeterProvider'],
  ['inferometer-sdk@7', 'inferometer/sdk'],
];
const ci = (r) => (r.ci ? `${r.ci[0].toFixed(3)}-${r.ci[1].toFixed(3)}` : 'n/a');

export function targets(results) {
  const rows = [];
  const cpu = results.cpu?.summary;
  if (cpu !== undefined) {
    // Issue 11, openai 7: paced <= 1.05x and <= +2 us/chunk and <= the leanest peer's added us;
    // flooded <= 1.10x; allocation <= +600 bytes per chunk.
    for (const [id, setup] of SETUPS) {
      const s = cpu[id];
      if (s === undefined) continue;
      const paced = s.paced;
      rows.push([`CPU per chunk <= 1.05x bare (openai 7, paced; ${setup})`, `${paced.ratio.median.toFixed(3)}x (CI ${ci(paced.ratio)})`, mark(paced.ratio.median <= 1.05)]);
      rows.push([`CPU per chunk <= +2 us over bare (openai 7, paced; ${setup})`, `${paced.overheadUs.toFixed(2)} us`, mark(paced.overheadUs <= 2)]);
      const peers = PEERS.map((p) => [p, cpu[`${p}@7`]?.paced?.overheadUs]).filter(([, x]) => x !== undefined);
      if (peers.length > 0) {
        const [leanName, lean] = peers.reduce((a, b) => (b[1] < a[1] ? b : a));
        rows.push([`+us per chunk <= the leanest peer's (openai 7, paced; ${setup})`, `${paced.overheadUs.toFixed(2)} vs ${leanName} ${lean.toFixed(2)}`, mark(paced.overheadUs <= lean)]);
      }
      const flooded = s.flooded;
      rows.push([`CPU per chunk <= 1.10x bare (openai 7, flooded; ${setup})`, `${flooded.ratio.median.toFixed(3)}x (CI ${ci(flooded.ratio)})`, mark(flooded.ratio.median <= 1.1)]);
      for (const pacing of ['paced', 'flooded']) {
        const over = s[pacing].bytesOverBare;
        rows.push([`bytes allocated per chunk <= +600 over bare (openai 7, ${pacing}; ${setup})`, over === undefined ? 'n/a' : `+${over.toFixed(0)}`, mark(over === undefined ? undefined : over <= 600)]);
      }
    }
    const s6 = cpu['inferometer@6'];
    if (s6 !== undefined) {
      for (const pacing of ['paced', 'flooded']) {
        rows.push([`(beyond the issue) CPU per chunk over bare (openai 6, ${pacing}; app MeterProvider)`, `${s6[pacing].ratio.median.toFixed(3)}x (CI ${ci(s6[pacing].ratio)}), ${s6[pacing].overheadUs.toFixed(2)} us`, 'n/a']);
      }
    }
  }
  if (cpu !== undefined) {
    // Issue 9: the build under test no slower than the baseline build (--baseline-dist), same rounds.
    for (const major of [7, 6]) {
      const v = cpu[`inferometer@${major} vs baseline`];
      if (v === undefined) continue;
      for (const pacing of ['paced', 'flooded']) {
        const r = v[pacing].ratio;
        const verdict = r.median <= 1 ? 'met' : r.ci !== undefined && r.ci[0] <= 1 ? 'met within the noise (CI contains 1)' : '**not met**';
        rows.push([`CPU per chunk, under test <= the baseline build (openai ${major}, ${pacing})`, `${r.median.toFixed(3)}x (CI ${r.ci ? `${r.ci[0].toFixed(3)}-${r.ci[1].toFixed(3)}` : 'n/a'}), ${v[pacing].overheadUs >= 0 ? '+' : ''}${v[pacing].overheadUs.toFixed(2)} us/chunk`, verdict]);
      }
    }
  }
  const acc = results.accuracy?.summary;
  if (acc !== undefined) {
    for (const id of ['inferometer@7', 'inferometer@6']) {
      if (acc[id] === undefined) continue;
      for (const c of ['immediate', 'late', 'slow']) {
        const e = acc[id][c];
        const worst = Math.max(Math.abs(e.ttft), Math.abs(e.gap));
        const net = Math.max(Math.abs(e.ttft - acc.floor.ttft), Math.abs(e.gap - acc.floor.gap));
        const verdict = worst <= 1 ? 'met' : net <= 1 ? 'met net of the machine floor' : '**not met**';
        rows.push([`TTFT and chunk-gap error <= 1 ms median (${id}, ${c})`, `TTFT ${e.ttft.toFixed(2)} ms, gap ${e.gap.toFixed(3)} ms (floor: TTFT ${acc.floor.ttft.toFixed(2)} ms)`, verdict]);
      }
      const e = acc[id]['slow-sync'];
      rows.push([`(beyond the issue) same with 5 ms of sync CPU work per chunk (${id})`, `TTFT ${e.ttft.toFixed(2)} ms, gap ${e.gap.toFixed(3)} ms, largest gap ${e.maxGap.toFixed(1)} ms, duration ${e.duration.toFixed(1)} ms`, mark(Math.max(Math.abs(e.ttft), Math.abs(e.gap)) <= 1)]);
    }
  }
  const mem = results.memory?.summary;
  if (mem !== undefined) {
    for (const id of ['inferometer@7', 'inferometer-sdk@7', 'inferometer@6']) {
      if (mem[id] === undefined) continue;
      rows.push([`<= 4 KB heap per in-flight stream over bare (${id})`, `${mem[id].overBare.toFixed(2)} KB`, mark(mem[id].overBare <= 4)]);
      rows.push([`flat heap over a long stream (${id}; growth over bare <= 100 KB, i.e. < 1 byte/chunk)`, `${mem[id].growthOverBare.toFixed(0)} KB`, mark(mem[id].growthOverBare <= 100)]);
    }
  }
  if (rows.length === 0) return '';
  return ['### Targets of the issue', '', table(['target', 'measured', ''], rows), ''].join('\n');
}
