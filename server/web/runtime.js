// runtime.js - the Runtime page: the alerts stored (paged, filtered by
// severity, host, rule and SP 800-190 section), the live ones as they
// arrive (server-sent events from /api/v1/events/stream), the rule that
// fired with its fields and process chain, and acknowledging an alert or
// silencing its rule until a time (operators and admins; each is an audit
// line on the server).
import { h, api, qs, route, pagedTable, sev, when, SEVS, clear, kv, errorBox, state } from './ui.js';

const MAX_LIVE = 200;

function procChain(f) {
  const chain = [];
  if (f['proc.name']) chain.push(f['proc.name'] + (f['proc.pid'] ? ' [' + f['proc.pid'] + ']' : ''));
  if (f['proc.pname']) chain.push(f['proc.pname'] + (f['proc.ppid'] ? ' [' + f['proc.ppid'] + ']' : ''));
  for (let i = 2; i < 8 && f['proc.aname[' + i + ']']; i++) chain.push(f['proc.aname[' + i + ']']);
  return chain;
}

function markOf(marks, a) {
  for (const m of marks) {
    if (m.kind === 'ack' && m.event_seq === a.seq) return 'acknowledged by ' + (m.token_name || '?');
    if (m.kind === 'silence' && m.rule === a.rule && (!m.host_id || m.host_id === a.host_id))
      return 'silenced until ' + when(m.until);
  }
  return '';
}

export async function runtime(main, params, cur) {
  const f = {};
  for (const k of ['severity', 'host', 'rule', 'section']) if (params.get(k)) f[k] = params.get(k);
  main.append(h('h1', {}, 'Runtime'));
  // issue 20a: the page's other views (profiles.js)
  main.append(h('p', { class: 'bar', id: 'runtime-tabs' }, h('a', { href: route('runtime'), 'aria-current': 'page' }, 'Alerts'),
    h('a', { href: route('profiles') }, 'Profiles and drift'), h('a', { href: route('captures') }, 'Captures')));
  let marks = [];
  try { marks = (await api('/api/v1/alerts/marks')).items; } catch (e) { main.append(errorBox(e)); }
  const canAct = state.session.role === 'admin' || state.session.role === 'operator';

  // filters: a form whose submit changes the permalink
  const sevSel = h('select', { name: 'severity', 'aria-label': 'Severity' }, h('option', { value: '' }, 'any severity'),
    SEVS.map((s) => h('option', { value: s, selected: f.severity === s }, s)));
  const hostIn = h('input', { name: 'host', placeholder: 'host id', value: f.host || '', 'aria-label': 'Host' });
  const ruleIn = h('input', { name: 'rule', placeholder: 'rule name', value: f.rule || '', 'aria-label': 'Rule', size: 30 });
  const secIn = h('input', { name: 'section', placeholder: 'section (3.4.4)', value: f.section || '', 'aria-label': 'Section', size: 12 });
  const form = h('form', { class: 'bar' }, sevSel, hostIn, ruleIn, secIn, h('button', { type: 'submit' }, 'Filter'),
    h('a', { href: route('runtime') }, 'clear'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = route('runtime', { severity: sevSel.value, host: hostIn.value.trim(), rule: ruleIn.value.trim(), section: secIn.value.trim() });
  });

  const detail = h('div', { class: 'panel', id: 'alert-detail' }, h('p', { class: 'dim' }, 'Select an alert (click, or Enter on a row) to see the rule, its fields and the actions.'));
  const liveBody = h('tbody');
  const liveInfo = h('span', { class: 'live', role: 'status' }, 'connecting...');
  let liveN = 0;

  function showDetail(a) {
    const ev = a.event || {};
    const fields = ev.output_fields || {};
    const chain = procChain(fields);
    const mark = markOf(marks, a);
    const out = h('div', {},
      h('h2', {}, a.rule || a.title || 'alert'),
      kv([['Severity', sev(a.severity)], ['When', when(a.ts)], ['Host', a.host_id], ['Container', a.container || '-'],
        ['Image', a.image || '-'], ['Section', a.section || '-'], ['Output', ev.output || a.title || ''],
        ['Process chain', chain.length ? chain.join(' \u2190 ') : 'not collected'], ['State', mark || 'open']]),
      h('h2', {}, 'Rule fields'),
      kv(Object.entries(fields).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)])));
    const msg = h('p', { role: 'status' });
    if (canAct) {
      const ack = h('button', { type: 'button', class: 'primary', id: 'ack' }, 'Acknowledge');
      const dur = h('select', { 'aria-label': 'Silence for' }, h('option', { value: '3600' }, '1 hour'),
        h('option', { value: '86400' }, '24 hours'), h('option', { value: '604800' }, '7 days'));
      const sil = h('button', { type: 'button', id: 'silence' }, 'Silence this rule on this host');
      ack.addEventListener('click', async () => {
        try {
          await api('/api/v1/alerts/marks', { method: 'POST', body: { kind: 'ack', event: a.seq } });
          marks = (await api('/api/v1/alerts/marks')).items;
          msg.textContent = 'acknowledged';
        } catch (e) { msg.textContent = 'failed: ' + e.message; }
      });
      let armed = false;   // two steps: the first click asks, the second silences
      sil.addEventListener('click', async () => {
        if (!armed) {
          armed = true;
          sil.textContent = 'Confirm: silence for ' + dur.selectedOptions[0].textContent;
          msg.textContent = 'Silence "' + a.rule + '" on ' + a.host_id + '? Click again to confirm.';
          return;
        }
        armed = false;
        sil.textContent = 'Silence this rule on this host';
        try {
          const until = Math.floor(Date.now() / 1000) + Number(dur.value);
          await api('/api/v1/alerts/marks', { method: 'POST', body: { kind: 'silence', rule: a.rule, host: a.host_id, until } });
          marks = (await api('/api/v1/alerts/marks')).items;
          msg.textContent = 'silenced until ' + when(until);
        } catch (e) { msg.textContent = 'failed: ' + e.message; }
      });
      out.append(h('div', { class: 'bar' }, ack, dur, sil), msg);
    }
    clear(detail).append(out);
  }

  const cols = [
    { key: 'severity', label: 'Severity', nowrap: true, render: (r) => sev(r.severity) },
    { key: 'ts', label: 'Time', nowrap: true, value: (r) => when(r.ts) },
    { key: 'host_id', label: 'Host', nowrap: true }, { key: 'rule', label: 'Rule' },
    { key: 'container', label: 'Container' }, { key: 'image', label: 'Image' },
    { key: 'state', label: 'State', value: (r) => markOf(marks, r) || 'open' },
  ];
  const table = pagedTable({
    name: 'alerts', cols, onOpen: showDetail,
    fetchPage: (c) => api('/api/v1/events' + qs(Object.assign({ limit: 50, after: c, total: 1 }, f))),
    empty: 'no alerts stored',
  });
  cur.keys = table.keys;

  const liveTable = h('table', { 'aria-label': 'live alerts' },
    h('thead', {}, h('tr', {}, cols.slice(0, 6).map((c) => h('th', {}, c.label)))), liveBody);
  main.append(form, h('div', { class: 'split' },
    h('div', {}, h('h2', {}, 'Live ', liveInfo), h('div', { class: 'tbl-wrap' }, liveTable),
      h('h2', {}, 'Stored alerts'), table),
    detail));

  // the live view: every alert after the newest at opening, matching the filters
  const es = new EventSource('/api/v1/events/stream');
  es.addEventListener('open', () => { liveInfo.textContent = 'live: ' + liveN + ' new'; });
  // one open stream; when it ends (after 5 minutes, a server restart, a
  // network break) EventSource reconnects with the last id
  es.addEventListener('error', () => { if (es.readyState === 2) liveInfo.textContent = 'disconnected'; });
  let pending = [];
  es.addEventListener('alert', (m) => {
    let a;
    try { a = JSON.parse(m.data); } catch (e) { return; }
    if (f.severity && a.severity !== f.severity) return;
    if (f.host && a.host_id !== f.host) return;
    if (f.rule && a.rule !== f.rule) return;
    if (f.section && !(a.section === f.section || (a.section || '').startsWith(f.section + '.'))) return;
    pending.push(a);
  });
  // drawn at most 10 times a second, so that 1,000 alerts/s stay cheap
  const timer = setInterval(() => {
    if (!pending.length) return;
    liveN += pending.length;
    const batch = pending.slice(-MAX_LIVE);
    pending = [];
    for (const a of batch) {
      const tr = h('tr', { tabindex: '0' }, cols.slice(0, 6).map((c) => h('td', {}, c.render ? c.render(a) : String((c.value ? c.value(a) : a[c.key]) || ''))));
      tr.addEventListener('click', () => showDetail(a));
      tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') showDetail(a); });
      liveBody.insertBefore(tr, liveBody.firstChild);
    }
    while (liveBody.children.length > MAX_LIVE) liveBody.removeChild(liveBody.lastChild);
    liveInfo.textContent = 'live: ' + liveN + ' new';
  }, 100);
  cur.stop = () => { es.close(); clearInterval(timer); };
}
