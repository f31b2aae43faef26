import type { MessageReader } from '../protocols/protocol.js';
import type { RequestRecord } from '../record.js';
import { ERROR_STREAM_INTERRUPTED } from '../semconv.js';
import type { BodyReader } from './body-reader.js';
import { type FrameMessage, createFrameDecoder } from './eventstream-frames.js';
import type { RecordSink } from './record-sink.js';

/** The content type of a binary event stream (AWS `application/vnd.amazon.eventstream`). */
export const BINARY_EVENT_STREAM = 'application/vnd.amazon.eventstream';

/** The framing's header that says what a message is: `event`, `exception` or `error`. */
const MESSAGE_TYPE = ':message-type';

/**
 * Reads a binary event stream as it arrives: decodes its messages ({@link createFrameDecoder})
 * and hands each to the protocol's message reader, stamped with the arrival of the bytes that
 * completed it. The first `event` message is the first chunk (`time_to_first_chunk`). The app
 * gets every chunk as it came (the same object): nothing is rewritten or held back. Cost is
 * linear in the bytes: each is looked at once by the decoder and once by each CRC.
 *
 * A stream that stops being a valid event stream (a corrupt CRC or length), or that ends in the
 * middle of a message, is read no further and ends as `stream_interrupted`, even after its
 * terminal event: the app's decoder fails on those bytes too. Nothing is reported through diag
 * for it (it is the server's or the network's doing, not ours).
 */
export function createEventStreamReader(record: RequestRecord, messages: MessageReader, sink: RecordSink): BodyReader {
  let sawEvent = false;
  const onMessage = (message: FrameMessage): void => {
    if (!sawEvent && message.headers[MESSAGE_TYPE] === 'event') {
      sawEvent = true;
      if (Number.isNaN(record.firstChunkAt)) record.firstChunkAt = sink.at;
    }
    messages.read(message);
  };
  const decoder = createFrameDecoder(onMessage);
  const interrupted = (): void => {
    if (sink.errorType === undefined) sink.errorType = ERROR_STREAM_INTERRUPTED;
  };

  return {
    push(chunk, at) {
      sink.at = at;
      if (decoder.failure === undefined) {
        decoder.feed(chunk);
        if (decoder.failure !== undefined) interrupted();
      }
      return chunk;
    },
    end(at) {
      sink.at = at;
      if (decoder.pending > 0) interrupted();
      messages.end();
      return null;
    },
    get complete() {
      return sink.completed;
    },
    get errorType() {
      return sink.errorType;
    },
  };
}
