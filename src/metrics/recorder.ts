import type { Attributes } from '@opentelemetry/api';
import { PriceBook } from '../cost/price-book.js';
import { reportInternalError, warnOnce } from '../diag.js';
import { readHeaders } from '../ratelimit/read-headers.js';
import type { RequestRecord } from '../record.js';
import * as sc from '../semconv.js';
import { firstMissed, measure } from '../slo/judge.js';
import type { Objectives } from '../types.js';
import type { Instruments } from './instruments.js';

/**
 * Turns finished {@link RequestRecord}s into OpenTelemetry measurements. This is the only place
 * that records; every entry point is guarded, so a meter or exporter that throws is reported
 * through `diag` and never reaches the app.
 */
export class MetricRecorder {
  readonly #instruments: () => Instruments;
  readonly #prices: PriceBook;
  readonly #slo: Readonly<Record<string, Objectives>>;

  /**
   * @param instruments the instruments to record to, looked up when a request starts or ends
   * @param slo objectives per workload class
   */
  constructor(instruments: () => Instruments, prices: PriceBook, slo: Readonly<Record<string, Objectives>>) {
    this.#instruments = instruments;
    this.#prices = prices;
    this.#slo = slo;
  }

  requestStarted(attributes: Attributes): void {
    try {
      this.#instruments().active.add(1, attributes);
    } catch (error) {
      reportInternalError('recording requests.active', error);
    }
  }

  /** One HTTP attempt: its status code, or the transport error that ended it. */
  attempt(attributes: Attributes, status: number | undefined, errorType: string | undefined): void {
    try {
      const attrs: Attributes = { ...attributes };
      if (status !== undefined) attrs[sc.ATTR_HTTP_STATUS_CODE] = status;
      if (errorType !== undefined) attrs[sc.ATTR_ERROR_TYPE] = errorType;
      this.#instruments().attempts.add(1, attrs);
    } catch (error) {
      reportInternalError('recording attempts', error);
    }
  }

  /**
   * The headers of one response (any attempt, a 429 too), read once: the quotas it reports go to
   * the headroom gauges, a retry-after to its histogram, the provider's processing time to the
   * record. A value that cannot be read is reported once through diag and records nothing.
   * Returns the wait the response asks for before a retry (ms), if any.
   */
  responseHeaders(record: RequestRecord, headers: Headers): number | undefined {
    try {
      const now = Date.now();
      const read = readHeaders(headers, now);
      for (const name of read.unreadable) warnOnce(`header:${name}`, `could not read the response header ${name}; it is left out of the rate-limit metrics`);
      record.providerProcessingMs = read.processingMs;
      if (read.quotas.length === 0 && read.retryAfterMs === undefined) return undefined;
      const m = this.#instruments();
      const a = record.attributes;
      const provider = a[sc.ATTR_PROVIDER_NAME] as string;
      const server = a[sc.ATTR_SERVER_ADDRESS] as string;
      const model = a[sc.ATTR_REQUEST_MODEL] as string | undefined;
      for (const quota of read.quotas) m.quotas.set(provider, server, model, quota, now);
      if (read.retryAfterMs !== undefined) {
        const attrs: Attributes = { [sc.ATTR_PROVIDER_NAME]: provider, [sc.ATTR_SERVER_ADDRESS]: server };
        if (model !== undefined) attrs[sc.ATTR_REQUEST_MODEL] = model;
        m.retryAfter.record(read.retryAfterMs / 1000, attrs);
      }
      return read.retryAfterMs;
    } catch (error) {
      reportInternalError('reading rate-limit headers', error);
      return undefined;
    }
  }

  requestFinished(record: RequestRecord): void {
    try {
      this.#instruments().active.add(-1, record.attributes);
    } catch (error) {
      reportInternalError('recording requests.active', error);
    }
    try {
      this.#record(record);
    } catch (error) {
      reportInternalError('recording a finished request', error);
    }
  }

  #record(r: RequestRecord): void {
    const m = this.#instruments();
    const attrs: Attributes = { ...r.attributes };
    if (r.responseModel !== undefined) attrs[sc.ATTR_RESPONSE_MODEL] = r.responseModel;
    if (r.outcome === 'error') attrs[sc.ATTR_ERROR_TYPE] = r.errorType ?? sc.OTHER;

    m.requests.add(1, { ...attrs, [sc.ATTR_OUTCOME]: r.outcome });
    // A cancelled request's duration says when the app gave up, not how the provider performed.
    if (r.outcome !== 'cancelled') m.duration.record(seconds(r.end - r.start), attrs);

    if (r.headersAt >= 0) m.timeToResponseHeaders.record(seconds(r.headersAt - r.start), attrs);
    if (r.providerProcessingMs !== undefined) m.providerProcessingTime.record(r.providerProcessingMs / 1000, attrs);

    const measured = measure(r);
    if (r.streaming) {
      if (r.firstChunkAt >= 0) m.timeToFirstChunk.record(seconds(r.firstChunkAt - r.start), attrs);
      if (measured.timeToFirstToken !== undefined) m.timeToFirstToken.record(measured.timeToFirstToken, attrs);
      if (r.gaps !== undefined) {
        const chunkAttrs = chunkAttributes(attrs);
        // Set up by inferometer/sdk: the stream's gaps are added per bucket, and the readers export
        // the totals. Else one OTel record per gap (the distribution must stay exact), with the
        // fewest attributes: the SDK hashes every attribute on every record (~0.4 us each).
        const histogram = m.timePerOutputChunk;
        if (m.chunkGaps !== undefined) m.chunkGaps.add(chunkAttrs, r.gaps);
        else if (histogram !== undefined) r.gaps.replay((s) => histogram.record(s, chunkAttrs));
      }
      if (measured.maxChunkGap !== undefined) m.maxChunkGap.record(measured.maxChunkGap, attrs);
      if (measured.timePerOutputToken !== undefined) m.timePerOutputToken.record(measured.timePerOutputToken, attrs);
      if (measured.minOutputSpeed !== undefined) m.outputSpeed.record(measured.minOutputSpeed, attrs);
    }

    const objectives = this.#slo[r.attributes[sc.ATTR_WORKLOAD_CLASS] as string];
    if (objectives !== undefined) {
      const missed = firstMissed(r, measured, objectives);
      m.sloRequests.add(
        1,
        missed === undefined
          ? { ...attrs, [sc.ATTR_SLO_OUTCOME]: 'met' }
          : { ...attrs, [sc.ATTR_SLO_OUTCOME]: 'missed', [sc.ATTR_SLO_MISSED]: missed },
      );
    }

    const usage = r.usage;
    if (usage === undefined) return;
    const usageAttrs = usage.estimated ? { ...attrs, [sc.ATTR_ESTIMATED]: true } : attrs;
    if (usage.input !== undefined) {
      m.tokenUsage.record(usage.input, { ...usageAttrs, [sc.ATTR_TOKEN_TYPE]: sc.TOKEN_TYPE_INPUT });
    }
    if (usage.output !== undefined) {
      m.tokenUsage.record(usage.output, { ...usageAttrs, [sc.ATTR_TOKEN_TYPE]: sc.TOKEN_TYPE_OUTPUT });
    }
    const model = r.responseModel ?? (r.attributes[sc.ATTR_REQUEST_MODEL] as string | undefined);
    const price = model === undefined ? null : this.#prices.priceOf(model);
    if (price !== null) {
      const usd = PriceBook.cost(price, usage);
      if (usd > 0) m.cost.add(usd, { ...usageAttrs, [sc.ATTR_OUTCOME]: r.outcome });
    }
  }
}

/** The attributes of the per-chunk histogram: the conventions' required ones, the request model, the workload class. */
const CHUNK_KEYS = [sc.ATTR_OPERATION_NAME, sc.ATTR_PROVIDER_NAME, sc.ATTR_REQUEST_MODEL, sc.ATTR_WORKLOAD_CLASS, sc.ATTR_ERROR_TYPE];

function chunkAttributes(attrs: Attributes): Attributes {
  const picked: Attributes = {};
  for (const key of CHUNK_KEYS) if (attrs[key] !== undefined) picked[key] = attrs[key];
  return picked;
}

function seconds(ms: number): number {
  return ms / 1000;
}
