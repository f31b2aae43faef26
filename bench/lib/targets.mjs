// The issue's targets, checked against the figures of this run (each scenario's summary).
import { table } from './markdown.mjs';

const PEERS = ['otel', 'traceloop', 'openinference', 'openlit'];
const mark = (ok) => (ok === undefined ? 'n/a' : ok ? 'met' : '**not met**');

export function targets(results) {
  const rows = [];
  const cpu = results.cpu?.summary;
  if (cpu !== undefined) {
    for (const major of [7, 6]) {
      const s = cpu[`inferometer@${major}`];
      if (s === undefined) continue;
      for (const pacing of ['paced', 'flooded']) {
        const r = s[pacing].ratio;
        rows.push([`CPU per chunk, all defaults <= 1.03x bare (openai ${major}, ${pacing})`, `${r.median.toFixed(3)}x (CI ${r.ci ? `${r.ci[0].toFixed(3)}-${r.ci[1].toFixed(3)}` : 'n/a'})`, mark(r.median <= 1.03)]);
      }
      for (const pacing of ['paced', 'flooded']) {
        const peers = PEERS.map((p) => [p, cpu[`${p}@${major}`]?.[pacing]?.overheadUs]).filter(([, x]) => x !== undefined);
        if (peers.length === 0) continue;
        const [leanName, lean] = peers.reduce((a, b) => (b[1] < a[1] ? b : a));
        rows.push([`+us per chunk <= the leanest peer's (openai ${major}, ${pacing})`, `${s[pacing].overheadUs.toFixed(2)} vs ${leanName} ${lean.toFixed(2)}`, mark(s[pacing].overheadUs <= lean)]);
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
    for (const id of ['inferometer@7', 'inferometer@6']) {
      if (mem[id] === undefined) continue;
      rows.push([`<= 2 KB heap per in-flight stream over bare (${id})`, `${mem[id].overBare.toFixed(2)} KB`, mark(mem[id].overBare <= 2)]);
      rows.push([`flat heap over a long stream (${id}; growth over bare <= 100 KB, i.e. < 1 byte/chunk)`, `${mem[id].growthOverBare.toFixed(0)} KB`, mark(mem[id].growthOverBare <= 100)]);
    }
  }
  if (rows.length === 0) return '';
  return ['### Targets of the issue', '', table(['target', 'measured', ''], rows), ''].join('\n');
}
