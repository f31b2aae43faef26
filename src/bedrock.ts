import type { MeterConfig } from './config.js';
import { warnOnce } from './diag.js';
import { type Middleware, attemptMiddleware, requestMiddleware } from './bedrock/middleware.js';

/*
 * The AWS SDK's Bedrock Runtime client (@aws-sdk/client-bedrock-runtime) sends through its own
 * Node HTTP/2 handler, not fetch. Its supported hook is the middleware stack: instrument() returns
 * a copy of the client (same class, same config and connections) whose stack has two middlewares
 * more. One, outermost (`initialize`), spans the logical request, the SDK's retries included;
 * the other, innermost (`deserialize`, after signing, before the SDK reads the response), sees
 * each HTTP attempt and its raw response (bedrock/middleware.ts).
 *
 * Nothing here imports the AWS SDK: the client is recognised by its shape, so an app that never
 * uses Bedrock loads none of it (this code is ~6 KB of the minified bundle).
 */

/** The parts of an AWS SDK v3 client that instrument() relies on. */
interface SmithyClientLike {
  readonly config: { readonly serviceId?: unknown };
  readonly middlewareStack: MiddlewareStackLike;
  send(...args: unknown[]): Promise<unknown>;
}

/** The client's middleware stack (@smithy/middleware-stack). */
interface MiddlewareStackLike {
  add(middleware: Middleware, options: { step: string; priority?: string; name?: string; tags?: string[] }): void;
  clone(): MiddlewareStackLike;
}

const SERVICE_ID = 'Bedrock Runtime';
const instrumented = new WeakSet<object>();

/** Whether `client` is an AWS SDK v3 Bedrock Runtime client (`BedrockRuntimeClient`, `BedrockRuntime`). */
export function isBedrockRuntimeClient(client: unknown): boolean {
  const c = client as Partial<SmithyClientLike> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.send === 'function' &&
    typeof c.middlewareStack?.add === 'function' &&
    typeof c.middlewareStack.clone === 'function' &&
    c.config?.serviceId === SERVICE_ID
  );
}

/**
 * A copy of a Bedrock Runtime client whose calls are metered: the same class (`instanceof` holds),
 * the same config, credentials and connection pool (destroying either destroys both's
 * connections), its own middleware stack (a clone of the client's at this moment, with
 * inferometer's two middlewares). The original client is left as it was. Every command returns
 * the SDK's own output and stream objects. The SDK's retries (it retries throttling) are the
 * attempts of one request, timed from the first.
 */
export function instrumentBedrock<T extends object>(client: T, config: MeterConfig): T {
  if (instrumented.has(client)) {
    warnOnce('instrument-twice', 'instrument() was given a client it already instruments; it is returned as it is (metering it twice would count every request twice)');
    return client;
  }
  const original = client as unknown as SmithyClientLike;
  const stack = original.middlewareStack.clone();
  stack.add(requestMiddleware(), { step: 'initialize', priority: 'high', name: 'inferometerRequestMiddleware', tags: ['INFEROMETER'] });
  stack.add(attemptMiddleware(config), { step: 'deserialize', priority: 'low', name: 'inferometerAttemptMiddleware', tags: ['INFEROMETER'] });
  const copy = Object.create(client) as T;
  Object.defineProperty(copy, 'middlewareStack', { value: stack, writable: true, enumerable: true, configurable: true });
  instrumented.add(copy);
  return copy;
}
