/**
 * Progress while the traffic runs: one line rewritten in place on a terminal, or a new line every
 * couple of seconds when the output is a file or a pipe.
 */
import type { CallOutcome } from './stream-call.ts';

/** What a workload counts its progress in: chat answers, batch documents, agent tasks. */
export interface WorkloadTotals {
  readonly [workload: string]: { readonly jobs: number; readonly unit: string };
}

interface Counts {
  jobs: number;
  requests: number;
  errors: number;
  cancelled: number;
}

const TTY_INTERVAL_MS = 100;
const LOG_INTERVAL_MS = 2000;

/** Counts finished requests and jobs per workload and shows them while the demo runs. */
export class Progress {
  readonly #totals: WorkloadTotals;
  readonly #out: NodeJS.WriteStream;
  readonly #counts = new Map<string, Counts>();
  readonly #started = performance.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(totals: WorkloadTotals, out: NodeJS.WriteStream) {
    this.#totals = totals;
    this.#out = out;
    for (const workload of Object.keys(totals)) this.#counts.set(workload, { jobs: 0, requests: 0, errors: 0, cancelled: 0 });
  }

  /** Starts showing progress. */
  start(): void {
    this.#timer = setInterval(() => this.#show(), this.#out.isTTY ? TTY_INTERVAL_MS : LOG_INTERVAL_MS);
  }

  /** One request of `workload` finished. */
  request(workload: string, outcome: CallOutcome): void {
    const c = this.#counts.get(workload)!;
    c.requests++;
    if (outcome === 'error') c.errors++;
    if (outcome === 'cancelled') c.cancelled++;
  }

  /** One job (answer, document, task) of `workload` finished, whatever its outcome. */
  job(workload: string): void {
    this.#counts.get(workload)!.jobs++;
  }

  /** Requests finished so far, over all workloads. */
  get requests(): number {
    return [...this.#counts.values()].reduce((n, c) => n + c.requests, 0);
  }

  /** Shows the final state and stops. */
  stop(): void {
    clearInterval(this.#timer);
    this.#show();
    if (this.#out.isTTY) this.#out.write('\n');
  }

  #show(): void {
    const all = [...this.#counts.values()];
    const sum = (pick: (c: Counts) => number) => all.reduce((n, c) => n + pick(c), 0);
    const total = Object.values(this.#totals).reduce((n, t) => n + t.jobs, 0);
    const parts = [...this.#counts].map(([w, c]) => `${w} ${c.jobs}/${this.#totals[w]!.jobs} ${this.#totals[w]!.unit}`);
    const elapsed = ((performance.now() - this.#started) / 1000).toFixed(1).padStart(5);
    const line =
      `  ${elapsed}s  jobs ${sum((c) => c.jobs)}/${total}  requests ${sum((c) => c.requests)}` +
      `  errors ${sum((c) => c.errors)}  cancelled ${sum((c) => c.cancelled)}  (${parts.join(', ')})`;
    // A line longer than the terminal wraps, and `\r` would then rewrite only its last part.
    if (this.#out.isTTY) this.#out.write(`\r${line.slice(0, (this.#out.columns || 80) - 1)}\x1b[K`);
    else this.#out.write(`${line}\n`);
  }
}
