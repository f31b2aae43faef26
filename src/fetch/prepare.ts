import type { Attributes } from '@opentelemetry/api';
import type { MeterConfig } from '../config.js';
import { portOf, providerOf } from '../protocols/hosts.js';
import { type DescribedRequest, describeRequest } from '../request/describe.js';
import * as sc from '../semconv.js';
import { resolveWorkload } from '../workload/resolve.js';

/** A request ready to send: the workload header removed, usage asked for where it may be. */
export interface PreparedRequest {
  readonly input: string | URL | Request;
  readonly init: RequestInit | undefined;
  /** Undefined for requests that are not metered (they pass through as they are, header removed). */
  readonly described: DescribedRequest | undefined;
  readonly attributes: Attributes;
  /** The init to send instead if the provider refuses the usage option inferometer added; undefined if nothing was added. */
  readonly withoutInjection: RequestInit | undefined;
  /** The deadline the openai SDK announced (`x-stainless-timeout`, whole seconds). */
  readonly timeoutSeconds: number | undefined;

}

type Input = string | URL | Request;

/** Reads a fetch call's arguments once; everything per request is decided here, nothing per chunk. */
export function prepareRequest(config: MeterConfig, input: Input, init: RequestInit | undefined): PreparedRequest {
  const request = input instanceof Request ? input : undefined;
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const method = init?.method ?? request?.method ?? 'GET';
  const headerSource = init?.headers ?? request?.headers;
  const header = headerValue(headerSource, sc.WORKLOAD_HEADER);
  const timeout = Number(headerValue(headerSource, 'x-stainless-timeout') ?? Number.NaN);


  let sendInput = input;
  let sendInit = init;
  if (header !== null) {
    // The per-call workload header is ours: it never leaves the process.
    const headers = new Headers(headerSource);
    headers.delete(sc.WORKLOAD_HEADER);
    if (init?.headers !== undefined) sendInit = { ...init, headers };
    else if (request !== undefined) sendInput = new Request(request, { headers });
  }

  const described = describeRequest(url, method, init?.body);
  if (described === undefined) {
    return { input: sendInput, init: sendInit, described, attributes: {}, withoutInjection: undefined, timeoutSeconds: undefined };
  }

  const { request: asked, protocol } = described;
  const workload = resolveWorkload(config, header, {
    operation: asked.operation,
    model: asked.model,
    stream: asked.stream,
    url,
  });
  const attributes: Attributes = {
    [sc.ATTR_OPERATION_NAME]: asked.operation,
    [sc.ATTR_PROVIDER_NAME]: providerOf(described.url.hostname, config.provider ?? protocol.provider),
    [sc.ATTR_SERVER_ADDRESS]: described.url.hostname,
    [sc.ATTR_SERVER_PORT]: portOf(described.url),
    [sc.ATTR_WORKLOAD_CLASS]: workload,
  };
  if (asked.model !== undefined) attributes[sc.ATTR_REQUEST_MODEL] = asked.model.slice(0, 128);

  let withoutInjection: RequestInit | undefined;
  if (config.injectStreamUsage && !config.usageRejectedBy.has(described.url.origin)) {
    const body = asked.withUsageRequested();
    if (body !== undefined) {
      withoutInjection = sendInit;
      sendInit = { ...sendInit, body };
    }
  }
  return {
    input: sendInput,
    init: sendInit,
    described,
    attributes,
    withoutInjection,
    timeoutSeconds: Number.isFinite(timeout) ? timeout : undefined,

  };
}

/** A header's value from any form fetch accepts (Headers, [name, value][] or a record), or null. */
function headerValue(headers: HeadersInit | undefined, name: string): string | null {
  if (headers === undefined || headers === null) return null;
  if (headers instanceof Headers) return headers.get(name);
  if (Array.isArray(headers)) {
    for (const pair of headers) if (pair[0]?.toLowerCase() === name) return pair[1] ?? null;
    return null;
  }
  const maybeHeaders = headers as unknown as Partial<Headers>;
  if (typeof maybeHeaders.get === 'function') return maybeHeaders.get(name) ?? null;
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === name) return String((headers as Record<string, string>)[key]);
  }
  return null;
}
