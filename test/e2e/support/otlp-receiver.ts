/**
 * A minimal OTLP/HTTP metrics receiver on 127.0.0.1, standing in for an OpenTelemetry Collector
 * or the Datadog Agent's OTLP intake (neither can be installed here): it accepts
 * `POST /v1/metrics` in the JSON encoding (`@opentelemetry/exporter-metrics-otlp-http`), keeps
 * every request decoded, and answers as a Collector does.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An OTLP attribute value in the JSON encoding. */
export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
}
export interface DataPoint {
  attributes?: Array<{ key: string; value: AnyValue }>;
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
  sum?: number;
  explicitBounds?: number[];
  bucketCounts?: Array<string | number>;
  scale?: number;
  positive?: { offset?: number; bucketCounts?: Array<string | number> };
}
export interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { dataPoints: DataPoint[]; aggregationTemporality: number; isMonotonic?: boolean };
  gauge?: { dataPoints: DataPoint[] };
  histogram?: { dataPoints: DataPoint[]; aggregationTemporality: number };
  exponentialHistogram?: { dataPoints: DataPoint[]; aggregationTemporality: number };
}
export interface ExportRequest {
  resourceMetrics: Array<{
    resource?: { attributes?: Array<{ key: string; value: AnyValue }> };
    scopeMetrics: Array<{ scope: { name: string; version?: string }; metrics: OtlpMetric[] }>;
  }>;
}

/** OTLP's AggregationTemporality values. */
export const DELTA = 1;
export const CUMULATIVE = 2;

export interface OtlpReceiver {
  /** `http://127.0.0.1:PORT`: the value of OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  /** Every export request received, decoded, in order. */
  readonly requests: ExportRequest[];
  /** The content types the requests came with. */
  readonly contentTypes: string[];
  /** Every metric of the scope `inferometer`, over all requests, in order. */
  metrics(): OtlpMetric[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const requests: ExportRequest[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/metrics') {
        res.writeHead(404).end();
        return;
      }
      contentTypes.push(req.headers['content-type'] ?? '');
      try {
        requests.push(JSON.parse(Buffer.concat(parts).toString('utf8')) as ExportRequest);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"expected OTLP JSON"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    contentTypes,
    metrics: () =>
      requests.flatMap((r) => r.resourceMetrics.flatMap((rm) => rm.scopeMetrics.filter((sm) => sm.scope.name === 'inferometer').flatMap((sm) => sm.metrics))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A data point's attributes as a plain object. */
export function attributesOf(point: DataPoint): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of point.attributes ?? []) {
    out[key] = value.stringValue ?? value.boolValue ?? (value.intValue !== undefined ? Number(value.intValue) : value.doubleValue ?? '');
  }
  return out;
}

/** A sum data point's value. */
export function valueOf(point: DataPoint): number {
  return point.asDouble ?? Number(point.asInt ?? 0);
}
