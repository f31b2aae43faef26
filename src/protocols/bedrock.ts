/*
 * Amazon Bedrock's runtime API, as two protocols (one per request shape): Converse, the same
 * request for every model, and InvokeModel, the model's own request inside Bedrock's envelope.
 * Both stream as binary event streams (`application/vnd.amazon.eventstream`).
 */
export { bedrockConverse } from './bedrock/converse.js';
export { bedrockInvoke } from './bedrock/invoke.js';
