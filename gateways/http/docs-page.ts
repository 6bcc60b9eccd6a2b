// A small, self-contained interactive page for the OpenAPI document: no CDN, no
// external assets (the gateway may run offline). It reads /openapi.json, lists
// every operation, and sends requests with fetch; streaming answers (SSE, NDJSON)
// are shown as they arrive until Stop. The Authorization value stays in the page's
// memory: never in the URL, never in storage. Required parameters must be filled
// in before a request is sent (the browser's own check, and run()'s).

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard HTTP API</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 70rem; padding: 1rem; color: #222; }
  header { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
  h1 { font-size: 1.4rem; margin: 0.3rem 0; }
  h2 { font-size: 1.1rem; margin: 1.2rem 0 0.4rem; border-bottom: 1px solid #ddd; }
  details { border: 1px solid #ddd; border-radius: 4px; margin: 0.3rem 0; }
  summary { cursor: pointer; padding: 0.4rem; font-family: ui-monospace, monospace; }
  .m { display: inline-block; width: 4.5rem; font-weight: bold; }
  .GET { color: #1565c0; } .POST { color: #2e7d32; } .PUT { color: #ef6c00; } .DELETE { color: #c62828; } .PATCH { color: #6a1b9a; }
  form { padding: 0.5rem 1rem; display: grid; grid-template-columns: 12rem 1fr; gap: 0.3rem 0.8rem; }
  label { font-family: ui-monospace, monospace; text-align: right; }
  textarea { font-family: ui-monospace, monospace; min-height: 4rem; }
  pre { background: #f6f6f6; padding: 0.5rem; white-space: pre-wrap; word-break: break-all; max-height: 24rem; overflow: auto; grid-column: 1 / 3; }
  .desc { grid-column: 1 / 3; color: #555; white-space: pre-wrap; }
</style>
</head>
<body>
<header>
  <h1>Switchboard HTTP API</h1>
  <a href="/openapi.json">openapi.json</a>
  <label>Authorization <input id="auth" type="password" size="32" placeholder="Bearer … or Basic …" autocomplete="off"></label>
</header>
<main id="ops">Loading…</main>
<script>
const $ = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c);
  return el;
};
async function run(method, path, op, form, out) {
  let url = path;
  const query = new URLSearchParams();
  const headers = {};
  const missing = (op.parameters || []).filter((p) => p.required && form.elements[p.in + ':' + p.name].value === '');
  if (missing.length > 0) {
    // Never send a path with a literal {name} in it: say which field is empty instead.
    out.textContent = 'Fill in: ' + missing.map((p) => p.in + ' ' + p.name).join(', ');
    return;
  }
  for (const p of op.parameters || []) {
    const value = form.elements[p.in + ':' + p.name].value;
    if (value === '') continue;
    if (p.in === 'path') url = url.replace('{' + p.name + '}', encodeURIComponent(value));
    else if (p.in === 'query') query.set(p.name, value);
    else headers[p.name] = value;
  }
  const auth = document.getElementById('auth').value;
  if (auth) headers.authorization = auth;
  const body = form.elements.body ? form.elements.body.value : '';
  if (form.elements.ctype && form.elements.ctype.value) headers['content-type'] = form.elements.ctype.value;
  const controller = new AbortController();
  form.stop = () => controller.abort();
  out.textContent = '…';
  try {
    const res = await fetch(url + (query.size ? '?' + query : ''), { method, headers, body: body === '' ? undefined : body, signal: controller.signal });
    let text = res.status + ' ' + res.statusText + '\\n';
    res.headers.forEach((v, k) => { text += k + ': ' + v + '\\n'; });
    out.textContent = text + '\\n';
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out.textContent += decoder.decode(value, { stream: true });
      out.scrollTop = out.scrollHeight;
    }
  } catch (e) {
    out.textContent += '\\n[' + e.name + ': ' + e.message + ']';
  }
}
function render(doc) {
  const root = document.getElementById('ops');
  root.textContent = '';
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || 'other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push([method.toUpperCase(), path, op]);
    }
  }
  for (const [tag, ops] of byTag) {
    root.append($('h2', {}, tag));
    for (const [method, path, op] of ops) {
      const form = $('form');
      if (op.description) form.append($('div', { class: 'desc' }, op.description));
      for (const p of op.parameters || []) {
        const input = $('input', { name: p.in + ':' + p.name, placeholder: p.description || '' });
        if (p.required) input.required = true;
        form.append($('label', {}, p.in + ' ' + p.name + (p.required ? ' *' : '')), input);
      }
      if (op.requestBody) {
        const types = Object.keys(op.requestBody.content);
        form.append($('label', {}, 'content-type'), $('input', { name: 'ctype', value: types[0] === '*/*' ? 'text/plain' : types[0] }));
        form.append($('label', {}, 'body'), $('textarea', { name: 'body' }));
      }
      const out = $('pre');
      const send = $('button', { type: 'submit' }, 'Send');
      const stop = $('button', { type: 'button' }, 'Stop');
      stop.onclick = () => form.stop && form.stop();
      form.append($('span'), $('span', {}, send, ' ', stop), out);
      form.onsubmit = (e) => { e.preventDefault(); run(method, path, op, form, out); };
      root.append($('details', {}, $('summary', {}, $('span', { class: 'm ' + method }, method), path + ' — ' + (op.summary || '')), form));
    }
  }
}
fetch('/openapi.json').then((r) => r.json()).then(render, (e) => { document.getElementById('ops').textContent = String(e); });
</script>
</body>
</html>
`;
