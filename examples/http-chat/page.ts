/** The chat page: a question box, and the answer appended as its chunks arrive (EventSource). */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>inferometer web chat</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; }
  form { display: flex; gap: .5rem; }
  input { flex: 1; font: inherit; padding: .4rem; }
  #answer { white-space: pre-wrap; min-height: 4rem; border-left: 3px solid #ccc; padding-left: .8rem; }
  small { color: #666; }
</style>
</head>
<body>
<h1>Ask</h1>
<form id="ask"><input id="q" value="What does HTTP 429 mean?" autofocus><button>Send</button></form>
<p id="answer"></p>
<small id="timing"></small>
<p><small>Every answer is an instrumented request of workload class <code>web-chat</code>:
see <a href="/metrics">/metrics</a> (for example <code>inferometer_time_to_first_token_bucket</code>).</small></p>
<script>
  const answer = document.getElementById('answer');
  const timing = document.getElementById('timing');
  let source;
  document.getElementById('ask').addEventListener('submit', (event) => {
    event.preventDefault();
    source?.close();
    answer.textContent = '';
    const started = performance.now();
    let first;
    source = new EventSource('/chat?q=' + encodeURIComponent(document.getElementById('q').value));
    source.onmessage = (e) => {
      first ??= performance.now();
      answer.textContent += JSON.parse(e.data).text;
    };
    source.addEventListener('done', () => {
      source.close();
      timing.textContent = 'first text after ' + Math.round(first - started) + ' ms, done after ' + Math.round(performance.now() - started) + ' ms (in this browser)';
    });
    source.addEventListener('failure', (e) => { source.close(); answer.textContent += ' [failed: ' + JSON.parse(e.data).message + ']'; });
    source.onerror = () => source.close();
  });
</script>
</body>
</html>
`;
