/**
 * A web chat: a plain node:http server whose handler streams a chat answer to the browser
 * (Server-Sent Events) through an inferometer-instrumented openai client, with its workload
 * class, and serves its metrics in Prometheus format on the same port.
 *
 *   npx tsup && node examples/http-chat/main.ts [--port 3000]
 *
 * Then open http://127.0.0.1:3000 and ask; the metrics are at http://127.0.0.1:3000/metrics.
 * Without OPENAI_API_KEY the answers come from the demo's simulated provider on 127.0.0.1. The
 * handler is framework-free: in Express or Next.js (a route handler returning a ReadableStream)
 * only the response plumbing differs.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { SLO_PRESETS, instrument, withWorkload } from 'inferometer';
import { createMeterProvider } from 'inferometer/sdk';
import { openSampleTarget } from '../demo/sample-app.ts';
import { PAGE } from './page.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '3000' } } });

// OpenTelemetry: inferometer's views and a Prometheus exporter whose handler this server mounts
// at /metrics (no second port).
const prometheus = new PrometheusExporter({ preventServerStart: true });
const meterProvider = createMeterProvider({ readers: [prometheus] });

const target = await openSampleTarget();
// Every answer the page asks for is `web-chat`: the class set by withWorkload() in the handler.
// Its objectives make goodput the share of answers that started within 1 s and never stalled.
const openai = instrument(target.client, { slo: { 'web-chat': SLO_PRESETS.interactiveChat } });

/** GET /chat?q=...: the answer as Server-Sent Events, `data: {"text": "..."}` per chunk, then `event: done`. */
async function chat(req: IncomingMessage, res: ServerResponse, question: string): Promise<void> {
  // The browser closing the tab (or the EventSource) aborts the upstream request too: inferometer
  // records it as `cancelled`, with the tokens it had streamed as wasted spend.
  const upstream = new AbortController();
  res.on('close', () => upstream.abort());
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  try {
    const stream = await openai.chat.completions.create(
      { model: target.models.chat, stream: true, max_completion_tokens: 64, messages: [{ role: 'user', content: question }] },
      { signal: upstream.signal },
    );
    for await (const chunk of stream) {
      const text = chunk.choices[0]?.delta.content;
      if (text) res.write(`data: ${JSON.stringify({ text })}\n\n`);
    }
    res.end('event: done\ndata: {}\n\n');
  } catch (error) {
    if (!upstream.signal.aborted) res.end(`event: failure\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`);
  }
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
  } else if (req.method === 'GET' && url.pathname === '/chat') {
    // Everything this request does upstream is recorded as `web-chat`.
    withWorkload('web-chat', () => chat(req, res, url.searchParams.get('q') || 'Hello!')).catch(() => res.destroy());
  } else if (req.method === 'GET' && url.pathname === '/metrics') {
    prometheus.getMetricsRequestHandler(req, res);
  } else {
    res.writeHead(404).end('Not found\n');
  }
});
await new Promise<void>((resolve) => server.listen(Number(values.port), '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
console.log(`traffic to:  ${target.description}`);
console.log(`chat:        http://127.0.0.1:${port}/`);
console.log(`metrics:     http://127.0.0.1:${port}/metrics (Prometheus text format)`);

process.once('SIGINT', () => {
  server.closeAllConnections();
  server.close(() => void Promise.all([target.close(), meterProvider.shutdown()]).then(() => process.exit(0)));
});
