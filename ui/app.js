// Vigil web UI: a small hash-routed single page over the HTTP API. Plain JS served as it is; only
// the query page's PromQL editor is bundled (ui/editor/, npm run build).
// Every server call goes through `api` so the paths live in one place.

const api = {
  auth: () => getJson('/api/v1/auth'),
  alerts: () => getJson('/api/v1/alerts'),
  rules: () => getJson('/api/v1/rules'),
  status: () => getJson('/api/v1/status'),
  queryRange: (q) => getJson('/api/v1/query_range?' + new URLSearchParams(q)),
  silences: () => getJson('/api/v1/silences'),
  createSilence: (body) => sendJson('POST', '/api/v1/silences', body),
  expireSilence: (id) => sendJson('DELETE', `/api/v1/silences/${encodeURIComponent(id)}`),
  ack: (body) => sendJson('POST', '/api/v1/acks', body),
  notifierAlerts: () => getJson('/api/v1/notifier/alerts'),
  history: (fingerprint) => getJson(`/api/v1/alerts/${encodeURIComponent(fingerprint)}/history`),
};

// ---- API tokens: kept in this tab's sessionStorage, sent as `Authorization: Bearer`. A 401 or 403
// opens the token dialog; the request is retried with the token entered until it passes or the
// dialog is cancelled.
const TOKEN_KEY = 'vigil.token';
const apiToken = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** fetch with the API token; asks for a token on 401/403 (also used by the editor's completion). */
async function authFetch(url, init = {}) {
  for (;;) {
    const headers = new Headers(init.headers);
    const token = apiToken.get();
    if (token) headers.set('authorization', `Bearer ${token}`);
    const res = await fetch(url, { ...init, headers });
    if (res.status !== 401 && res.status !== 403) return res;
    const body = await res.clone().json().catch(() => ({}));
    if (!(await askToken(res.status, body.error ?? `${res.status} ${res.statusText}`))) return res;
  }
}

let tokenPrompt = null;
/** Shows the token dialog (one at a time); resolves true when a token was entered. */
function askToken(status, message) {
  tokenPrompt ??= new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.id = 'token-dialog';
    dialog.innerHTML = `<form method="dialog">
      <h2>${status === 401 ? 'This needs an API token' : 'The API token was refused'}</h2>
      <p class="muted" id="token-reason">${esc(message)}</p>
      <label>API token<input name="token" type="password" autocomplete="off" required></label>
      <p class="muted">Kept in this browser tab only (session storage).</p>
      <menu><button type="submit" value="use">Use token</button> <button type="button" class="secondary" value="cancel">Cancel</button></menu>
    </form>`;
    const done = (ok) => {
      dialog.close();
      dialog.remove();
      tokenPrompt = null;
      showAuth();
      resolve(ok);
    };
    dialog.querySelector('form').addEventListener('submit', (event) => {
      event.preventDefault();
      apiToken.set(String(new FormData(event.target).get('token')).trim());
      done(true);
    });
    dialog.querySelector('button[value=cancel]').addEventListener('click', () => done(false));
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); done(false); });
    document.body.append(dialog);
    dialog.showModal();
  });
  return tokenPrompt;
}

/** The header's access line: open (no tokens), or what the current token may do. */
async function showAuth() {
  const el = document.getElementById('auth');
  let info;
  try { info = await (await fetch('/api/v1/auth', { headers: apiToken.get() ? { authorization: `Bearer ${apiToken.get()}` } : {} })).json(); }
  catch { return; }
  const button = (label, action) => ` <button class="link" data-auth="${action}">${label}</button>`;
  if (info.mode === 'open') {
    el.className = 'auth auth-open';
    el.textContent = 'open: no API tokens';
    el.title = 'Anyone who can reach this server can change silences and acknowledge alerts. Set api.tokens or VIGIL_API_TOKENS.';
    return;
  }
  el.className = `auth auth-${info.caller}`;
  el.title = '';
  el.innerHTML = { admin: 'token: full access', read: 'token: read only', invalid: 'token refused', none: 'no token' }[info.caller]
    + (info.caller === 'none' || info.caller === 'invalid' || info.caller === 'read' ? button('enter token', 'ask') : '')
    + (info.caller !== 'none' ? button('forget', 'forget') : '');
  el.querySelector('[data-auth=ask]')?.addEventListener('click', () => askToken(401, 'Enter an API token (api.tokens or api.readTokens).'));
  el.querySelector('[data-auth=forget]')?.addEventListener('click', () => { apiToken.clear(); showAuth(); });
}

async function getJson(path) {
  const res = await authFetch(path, { headers: { accept: 'application/json' } });
  return readBody(res);
}

async function sendJson(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return readBody(await authFetch(path, init));
}

async function readBody(res) {
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { error: text }; }
  if (!res.ok) {
    const err = new Error((body && (body.error || body.message)) || `${res.status} ${res.statusText}`);
    err.position = body?.position;
    throw err;
  }
  return body;
}

// ---- tiny DOM helpers (text is always escaped: values come from alert labels) ----
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const labelsHtml = (labels) => Object.entries(labels || {}).sort(([a], [b]) => a.localeCompare(b))
  .map(([k, v]) => `<span class="label">${esc(k)}="${esc(v)}"</span>`).join('');
const since = (iso) => {
  if (!iso) return '';
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 90) return `${s}s ago`;
  if (s < 5400) return `${Math.round(s / 60)}m ago`;
  return `${(s / 3600).toFixed(1)}h ago`;
};
const page = () => document.getElementById('page');
function flash(message, bad = false) {
  const div = document.createElement('div');
  div.className = bad ? 'flash bad' : 'flash';
  div.textContent = message;
  page().prepend(div);
  setTimeout(() => div.remove(), 6000);
}

function matchersFromLabels(labels) {
  const rank = (k) => (k === 'alertname' ? '' : k);
  return Object.entries(labels).filter(([k]) => k !== 'severity').sort(([a], [b]) => rank(a).localeCompare(rank(b)))
    .map(([name, value]) => ({ name, value, isRegex: false, isEqual: true }));
}

function parseMatchers(text) {
  const out = [];
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
  let m;
  re.lastIndex = 0;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    out.push({ name: m[1], value: m[3].replace(/\\(.)/g, '$1'), op: m[2] });
    if (!m[4]) break;
  }
  if (!out.length) throw new Error('matchers: write them as name="value", other=~"regex"');
  return out;
}

const matcherOp = (m) => m.op ?? (m.isRegex ? (m.isEqual === false ? '!~' : '=~') : m.isEqual === false ? '!=' : '=');
const formatMatchers = (ms) => (ms || []).map((m) => `${m.name}${matcherOp(m)}"${m.value}"`).join(', ');
const when = (t) => (typeof t === 'number' ? new Date(t).toISOString() : t ?? '');
/** `2026-11-25 19:20:10Z`: a compact UTC time for tables. */
const shortTime = (t) => (t === undefined || t === null || t === '' ? '' : new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
const details = (o) => Object.entries(o).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ');

// ---- pages ----
const pages = {
  async alerts() {
    const [{ data }, notifier] = await Promise.all([api.alerts(), api.notifierAlerts().catch(() => [])]);
    const muted = new Map(notifier.map((n) => [n.fingerprint, n]));
    const badges = (fp) => {
      const n = muted.get(fp);
      if (!n) return '';
      return (n.silencedBy?.length ? ' <span class="label">silenced</span>' : '') + (n.acked ? ' <span class="label">acked</span>' : '')
        + (n.inhibitedBy ? ' <span class="label">inhibited</span>' : '');
    };
    // Firing before pending, then by name: what needs attention first.
    const order = (a) => (a.state === 'firing' ? 0 : 1);
    const sorted = [...data.alerts].sort((a, b) => order(a) - order(b) || String(a.labels.alertname).localeCompare(String(b.labels.alertname)));
    const rows = sorted.map((a) => `
      <tr data-fingerprint="${esc(a.fingerprint)}">
        <td class="state state-${esc(a.state)}">${esc(a.state)}${a.level ? ` <span class="muted">(${esc(a.level)})</span>` : ''}</td>
        <td><a href="#/alert/${encodeURIComponent(a.fingerprint)}">${esc(a.labels.alertname)}</a>${badges(a.fingerprint)}</td>
        <td>${labelsHtml(a.labels)}</td>
        <td class="time" title="${esc(a.activeAt)}">${esc(since(a.activeAt))}</td>
        <td>${a.value === null || a.value === undefined ? '' : esc(Number(a.value).toPrecision(4))}</td>
        <td>${esc(a.annotations?.summary ?? '')}</td>
        <td class="actions"><button class="secondary" data-action="silence">Silence</button>
            <button class="secondary" data-action="ack">Ack</button></td>
      </tr>`).join('');
    page().innerHTML = `<h1>Alerts <span class="muted">(${data.alerts.length})</span></h1>
      <table id="alerts"><thead><tr><th>State</th><th>Alert</th><th>Labels</th><th>Since</th><th>Value</th><th>Summary</th><th></th></tr></thead>
      <tbody>${rows || '<tr><td colspan="7" class="muted">No active alerts.</td></tr>'}</tbody></table>`;
    const byFp = new Map(data.alerts.map((a) => [a.fingerprint, a]));
    page().querySelectorAll('button[data-action]').forEach((button) => button.addEventListener('click', async () => {
      const alert = byFp.get(button.closest('tr').dataset.fingerprint);
      if (button.dataset.action === 'silence') {
        location.hash = '#/silences?' + new URLSearchParams({ matchers: formatMatchers(matchersFromLabels(alert.labels)), from: alert.labels.alertname });
        return;
      }
      try {
        await api.ack({ fingerprint: alert.fingerprint, author: localStorage.getItem('vigil.author') || 'ui', comment: 'acknowledged in the UI' });
        flash(`Acknowledged ${alert.labels.alertname}: repeats stop until it changes.`);
      } catch (err) { flash(err.message, true); }
    }));
  },

  async alert(fingerprint) {
    const [{ data }, history] = await Promise.all([api.alerts(), api.history(fingerprint).catch((e) => ({ error: e.message }))]);
    const alert = data.alerts.find((a) => a.fingerprint === fingerprint);
    const explain = alert?.explanation ?? {};
    const entries = history.error ? [] : history.history;
    page().innerHTML = `<h1>${esc(alert?.labels.alertname ?? 'Alert')} <span class="muted">${esc(fingerprint)}</span></h1>
      ${alert ? `<dl class="kv">
        <dt>state</dt><dd class="state state-${esc(alert.state)}">${esc(alert.state)}${alert.level ? ` (${esc(alert.level)})` : ''}</dd>
        <dt>labels</dt><dd>${labelsHtml(alert.labels)}</dd>
        <dt>annotations</dt><dd>${Object.entries(alert.annotations || {}).map(([k, v]) => `${esc(k)}: ${esc(v)}`).join('<br>')}</dd>
        <dt>active since</dt><dd>${esc(alert.activeAt)}</dd>
        <dt>value</dt><dd>${esc(alert.value)}</dd>
        ${Object.entries(explain).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(typeof v === 'object' ? JSON.stringify(v) : v)}</dd>`).join('')}
      </dl>` : '<p class="muted">Not active any more.</p>'}
      <h2>Series behind it</h2><div id="chart"></div>
      <h2>History</h2>
      ${history.error ? `<p class="error">${esc(history.error)}</p>` : `<table><thead><tr><th>Time</th><th>What</th><th>Details</th></tr></thead><tbody>
        ${entries.map(({ at, type, ...rest }) => `<tr><td class="time" title="${esc(when(at))}">${esc(shortTime(at))}</td><td>${esc(type)}</td><td>${esc(details(rest))}</td></tr>`).join('') || '<tr><td colspan="3" class="muted">Nothing yet.</td></tr>'}
      </tbody></table>`}`;
    // A rule's query is in the Vigil rules language.
    if (alert?.query) await drawQuery(alert.query, 3600, document.getElementById('chart'), undefined, undefined, 'vigil');
  },

  async silences(params) {
    const list = await api.silences(); // a plain array, like Alertmanager's
    const active = list.filter((s) => s.status?.state !== 'expired');
    page().innerHTML = `<h1>Silences</h1>
      <form class="inline" id="new-silence">
        <label>Matchers<input name="matchers" size="50" required value="${esc(params.get('matchers') ?? '')}" placeholder='alertname="HighCpuLoad", host="web1"'></label>
        <label>Duration<select name="duration"><option>1h</option><option>2h</option><option>4h</option><option>1d</option><option>15m</option></select></label>
        <label>Author<input name="author" required value="${esc(localStorage.getItem('vigil.author') ?? '')}"></label>
        <label>Comment<input name="comment" size="30" required value="${params.get('from') ? 'silenced from alert ' + esc(params.get('from')) : ''}"></label>
        <button type="submit">Create silence</button>
      </form>
      <table id="silences"><thead><tr><th>State</th><th>Matchers</th><th>Starts</th><th>Ends</th><th>Author</th><th>Comment</th><th></th></tr></thead><tbody>
      ${active.map((s) => `<tr data-id="${esc(s.id)}"><td class="state">${esc(s.status?.state ?? '')}</td><td><code>${esc(formatMatchers(s.matchers))}</code></td>
        <td class="time" title="${esc(s.startsAt)}">${esc(shortTime(s.startsAt))}</td><td class="time" title="${esc(s.endsAt)}">${esc(shortTime(s.endsAt))}</td><td>${esc(s.createdBy)}</td><td>${esc(s.comment)}</td>
        <td><button class="secondary" data-action="expire">Expire</button></td></tr>`).join('') || '<tr><td colspan="7" class="muted">No silences.</td></tr>'}
      </tbody></table>`;
    document.getElementById('new-silence').addEventListener('submit', async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      try {
        const ms = { '15m': 9e5, '1h': 36e5, '2h': 72e5, '4h': 144e5, '1d': 864e5 }[form.get('duration')];
        localStorage.setItem('vigil.author', form.get('author'));
        await api.createSilence({ matchers: parseMatchers(String(form.get('matchers'))), startsAt: new Date().toISOString(),
          endsAt: new Date(Date.now() + ms).toISOString(), createdBy: form.get('author'), comment: form.get('comment') });
        location.hash = '#/silences';
        await route();
        flash('Silence created.');
      } catch (err) { flash(err.message, true); }
    });
    page().querySelectorAll('button[data-action=expire]').forEach((b) => b.addEventListener('click', async () => {
      try { await api.expireSilence(b.closest('tr').dataset.id); await route(); flash('Silence expired.'); }
      catch (err) { flash(err.message, true); }
    }));
  },

  async rules() {
    const { data, vigil } = await api.rules();
    const errors = vigil?.errors ?? [];
    page().innerHTML = `<h1>Rules</h1>
      <p>${errors.length ? `<span class="error">The last reload failed; the previous rules keep running.</span>` : '<span class="ok">Last reload succeeded.</span>'}
        <span class="muted">${esc(vigil?.lastReload ?? '')}</span></p>
      ${errors.length ? `<pre class="error">${esc(errors.map((e) => e.text ?? `${e.file}:${e.line}:${e.column}: ${e.message}`).join('\n'))}</pre>` : ''}
      ${data.groups.map((g) => `<h2>${esc(g.file ?? g.name)}</h2><table><thead><tr><th>Rule</th><th>Type</th><th>Expression</th><th>Health</th><th>Alerts</th></tr></thead><tbody>
        ${g.rules.map((r) => `<tr><td>${esc(r.name)}</td><td>${esc(r.type)}</td><td><code>${esc(r.query)}</code></td><td>${esc(r.health)}</td><td>${esc((r.alerts ?? []).length)}</td></tr>`).join('')}
      </tbody></table>`).join('')}`;
  },

  async query(params) {
    const q = params.get('q') ?? '';
    const lang = params.get('lang') === 'vigil' ? 'vigil' : 'promql';
    const range = params.get('range') ?? '3600';
    // `end` (unix seconds) pins the chart to a past moment, e.g. a link to an incident; default now.
    const end = params.get('end');
    const link = (over) => '#/query?' + new URLSearchParams({ q, lang, range, ...(end ? { end } : {}), ...over });
    page().innerHTML = `<h1>Query</h1>
      <form class="inline" id="query-form">
        <label class="expression">Expression ${lang === 'promql' ? '<span class="muted">(PromQL; Enter runs, Ctrl-Space completes)</span>' : '<span class="muted">(Vigil rules language)</span>'}
          ${lang === 'promql' ? '<div id="query-editor" class="editor"></div>' : `<input name="q" size="70" value="${esc(q)}" placeholder="avg(cpu.load) by (host)">`}</label>
        <label>Language<select name="lang"><option value="promql" ${lang === 'promql' ? 'selected' : ''}>PromQL</option>
          <option value="vigil" ${lang === 'vigil' ? 'selected' : ''}>Vigil</option></select></label>
        <label>Range<select name="range">${[['900', '15m'], ['3600', '1h'], ['21600', '6h'], ['86400', '1d'], ['604800', '7d']]
          .map(([v, t]) => `<option value="${v}" ${v === range ? 'selected' : ''}>${t}</option>`).join('')}</select></label>
        <button type="submit">Run</button>
        ${end ? `<span class="muted" id="query-end">ending ${esc(new Date(Number(end) * 1000).toISOString())}
          · <a href="#/query?${esc(new URLSearchParams({ q, lang, range }))}">until now</a></span>` : ''}
      </form><div id="chart"></div><div id="query-table"></div>`;
    const form = document.getElementById('query-form');
    let editor = null;
    const expression = () => (editor ? editor.getValue() : String(new FormData(form).get('q') ?? ''));
    const submit = () => {
      const data = new FormData(form);
      location.hash = link({ q: expression(), lang: String(data.get('lang')), range: String(data.get('range')) });
    };
    form.addEventListener('submit', (event) => { event.preventDefault(); submit(); });
    form.querySelector('select[name=lang]').addEventListener('change', (event) => { location.hash = link({ lang: event.target.value }); });
    if (lang === 'promql') {
      const holder = document.getElementById('query-editor');
      try {
        const { createPromqlEditor } = await loadEditor();
        editor = createPromqlEditor({ parent: holder, doc: q, origin: location.origin, fetchFn: authFetch, onRun: submit, hint: 'rate(node_cpu_seconds_total[5m])' });
        if (!q) editor.focus();
      } catch (err) {
        holder.outerHTML = `<input name="q" size="70" value="${esc(q)}"><span class="error">The PromQL editor did not load (${esc(err.message)}): run npm run build.</span>`;
      }
    }
    if (q) await drawQuery(q, Number(range), document.getElementById('chart'), document.getElementById('query-table'), end ? Number(end) : undefined, lang);
  },

  async status() {
    const { data: d } = await api.status();
    const num = (v, digits = 1) => (v === null || v === undefined ? '–' : Number(v).toLocaleString('en', { maximumFractionDigits: digits }));
    const per = (o, unit) => Object.entries(o || {}).map(([k, v]) => `${esc(k)} ${esc(num(v))}${unit}`).join(' · ');
    const a = d.archive || {};
    const rows = [
      ['Samples/s', `${num(d.samples.perSecond)} <span class="muted">(last ${esc(d.samples.overSeconds)} s; ${num(d.samples.total, 0)} ${esc(d.samples.counted)})</span>`],
      ['Records/s', per(d.samples.recordsPerSecondByTopology, '')],
      ['Consumer lag', `${num(d.consumerLag.total, 0)} records <span class="muted">${per(d.consumerLag.byTopology, '')}</span>`],
      ['Late', `${num(d.late.records, 0)} records, ${num(d.late.samples, 0)} samples`],
      ['Dead letters', `${num(d.dlq.records, 0)} records, ${num(d.dlq.samples, 0)} samples${Object.keys(d.dlq.byReason || {}).length ? ` <span class="muted">${per(d.dlq.byReason, '')}</span>` : ''}; ${num(d.dlq.notifications, 0)} notifications`],
      ['Archive', a.error ? `<span class="error">${esc(a.error)}</span>` : `${num(a.objects, 0)} files, ${esc(formatBytes(a.bytes))} <span class="muted">(${esc(formatBytes(a.bytesWritten))} written by this process, ${num(a.bufferedRows, 0)} rows buffered) ${esc(a.url ?? '')}</span>`],
      ['Uptime', `${num(d.uptimeSeconds / 60)} min`],
    ];
    page().innerHTML = `<h1>Status</h1><dl class="kv" id="status">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>
      <h2>Components</h2><table id="components"><thead><tr><th>Component</th><th>Status</th></tr></thead><tbody>
      ${Object.entries(d.components || {}).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</tbody></table>`;
  },
};

function formatBytes(b) {
  if (b === undefined || b === null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return `${i ? b.toFixed(1) : b} ${units[i]}`;
}

// Steps that tile the archive's 1m and 1h rollups, so long ranges read rollups instead of raw samples.
const STEPS = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];

let editorModule = null;
/** The bundled PromQL editor (dist/ui-build, built by npm run build), loaded once. */
function loadEditor() {
  editorModule ??= import('/ui-build/promql-editor.js').catch((err) => { editorModule = null; throw err; });
  return editorModule;
}

/** Runs a range query (PromQL, or `lang` vigil) and draws it with uPlot: one line per series. */
async function drawQuery(query, rangeSeconds, chartEl, tableEl, endSeconds, lang = 'promql') {
  const end = endSeconds ?? Math.floor(Date.now() / 1000);
  const start = end - rangeSeconds;
  const step = STEPS.find((s) => s >= rangeSeconds / 300) ?? STEPS.at(-1);
  let body;
  try {
    body = await api.queryRange({ query, start, end, step, ...(lang === 'vigil' ? { lang } : {}) });
  } catch (err) {
    // A parse error comes with its position: point at it under the expression.
    const caret = Number.isInteger(err.position) ? `\n${query}\n${' '.repeat(err.position)}^` : '';
    chartEl.innerHTML = `<pre class="error query-error">${esc(err.message + caret)}</pre>`;
    return;
  }
  const series = body.data.result;
  const times = [...new Set(series.flatMap((s) => s.values.map((v) => v[0])))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = series.map((s) => {
    const col = new Array(times.length).fill(null);
    for (const [t, v] of s.values) col[index.get(t)] = Number(v);
    return col;
  });
  chartEl.innerHTML = '';
  chartEl.dataset.points = String(columns.reduce((n, c) => n + c.filter((v) => v !== null).length, 0));
  const name = (m) => Object.entries(m).map(([k, v]) => `${k}=${v}`).join(', ') || query;
  // eslint-disable-next-line no-undef
  new uPlot({ width: Math.min(1200, chartEl.clientWidth || 1000), height: 320,
    series: [{}, ...series.map((s, i) => ({ label: name(s.metric), stroke: `hsl(${(i * 67) % 360} 60% 45%)`, width: 1.5 }))],
    axes: [{}, {}] }, [times, ...columns], chartEl);
  if (tableEl) {
    tableEl.innerHTML = `<table><thead><tr><th>Series</th><th>Points</th><th>Last</th></tr></thead><tbody>${series.map((s) =>
      `<tr><td>${labelsHtml(s.metric)}</td><td>${s.values.length}</td><td title="${esc(s.values.at(-1)?.[1] ?? '')}">${s.values.length ? esc(Number(s.values.at(-1)[1]).toPrecision(6)) : ''}</td></tr>`).join('')}</tbody></table>`;
  }
}

async function route() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [name, arg] = path.split('/');
  const key = pages[name] ? name : 'alerts';
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.dataset.page === (key === 'alert' ? 'alerts' : key)));
  try {
    await pages[key](key === 'alert' ? decodeURIComponent(arg ?? '') : new URLSearchParams(query));
    document.getElementById('refreshed').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (err) {
    page().innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

window.addEventListener('hashchange', route);
showAuth();
route();
// Live pages refresh themselves; forms are left alone while someone types.
setInterval(() => {
  const name = location.hash.replace(/^#\/?/, '').split(/[/?]/)[0] || 'alerts';
  if (['alerts', 'status', 'rules'].includes(name)) route();
}, 5000);
