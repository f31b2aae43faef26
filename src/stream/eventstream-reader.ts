import type { MessageReader } from '../protocols/protocol.js';
import type { RequestRecord } from '../record.js';
import type { BodyReader } from './body-reader.js';
import type { RecordSink } from './record-sink.js';

/** The content type of a binary event stream (AWS `application/vnd.amazon.eventstream`). */
export const BINARY_EVENT_STREAM = 'application/vnd.amazon.eventstream';

/**
 * Reads a binary event stream as it arrives: decodes its messages and hands each to the
 * protocol's message reader. (Placeholder: being written.)
 */
export function createEventStreamReader(record: RequestRecord, messages: MessageReader, sink: RecordSink): BodyReader {
  void record;
  void messages;
  return {
    push: (chunk) => chunk,
    end: () => null,
    get complete() {
      return sink.completed;
    },
    get errorType() {
      return sink.errorType;
    },
  };
}
