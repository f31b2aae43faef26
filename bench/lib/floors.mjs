// Floors: what the guarantees alone cost, with none of inferometer's reading or recording. Each is
// a `fetch` handed to the openai client, the way inferometer's own fetch is, and each adds one
// layer to the one before:
//   fetch  - a wrapper around globalThis.fetch that returns the same Response (the cost of
//            being the client's fetch at all: one more async function per request);
//   tap    - the body handed to the app is a second ReadableStream that reads the original one
//            read per app read (high-water mark 0: backpressure as the bare body's) and takes
//            one timestamp per network read: the least that timestamps bytes at the network
//            boundary. No read-ahead (the app's reads pace it), no release on GC, no outcome;
//   decode - the tap, plus decoding each read as text and finding its event boundaries (the
//            least that sees each chunk, to time it), with one timestamp kept per event.
// Nothing is recorded anywhere: these are lower bounds, not working instrumentation.

/** Per process, so the work cannot be optimised away (read by nobody). */
export const sink = { reads: 0, events: 0, lastAt: 0 };

function tapped(response, onRead) {
  const source = response.body.getReader();
  const body = new ReadableStream(
    {
      pull(controller) {
        return source.read().then(({ done, value }) => {
          const at = performance.now();
          if (done) {
            controller.close();
            return;
          }
          onRead(value, at);
          controller.enqueue(value);
        });
      },
      cancel(reason) {
        return source.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

const countRead = (value, at) => {
  sink.reads++;
  sink.lastAt = at;
};

function decoding() {
  const decoder = new TextDecoder();
  let rest = '';
  return (value, at) => {
    sink.reads++;
    const text = rest + decoder.decode(value, { stream: true });
    let from = 0;
    for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n', from)) {
      sink.events++;
      sink.lastAt = at;
      from = end + 2;
    }
    rest = from === 0 ? text : text.slice(from);
  };
}

/** The floor's fetch (`fetch`, `tap` or `decode`). */
export function floorFetch(kind) {
  if (kind === 'fetch') return async (url, init) => fetch(url, init);
  if (kind === 'tap') return async (url, init) => tapped(await fetch(url, init), countRead);
  if (kind === 'decode') return async (url, init) => tapped(await fetch(url, init), decoding());
  throw new Error(`unknown floor ${kind}`);
}
