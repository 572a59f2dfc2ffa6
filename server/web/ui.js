// ui.js - the console's building blocks: elements made with the DOM (text
// always as text nodes, never parsed as markup, so names, paths and alert
// fields that an attacker chose stay text), links limited to the console's
// own routes and API, the API client (session cookie + CSRF header), paged
// tables with CSV/JSON export, and the trend chart (SVG).

export const state = { session: null, onAuthLost: null };

// h('td', {class: 'x'}, 'text', child...) - attributes are set one by one;
// "on..." takes a function; href passes safeHref.
export function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'href') { const s = safeHref(v); if (s) e.setAttribute('href', s); }
    else if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = String(v);
    else if (typeof v === 'boolean') e.setAttribute(k, '');
    else e.setAttribute(k, String(v));
  }
  add(e, kids);
  return e;
}

function add(e, kids) {
  for (const c of kids) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) add(e, c);
    else if (c instanceof Node) e.appendChild(c);
    else e.appendChild(document.createTextNode(String(c)));
  }
}

// Only the console's own routes, the API and its files; anything else
// (javascript:, data:, other sites) gets no href at all.
export function safeHref(u) {
  u = String(u);
  if (/^#\/[A-Za-z0-9_\/-]*(\?.*)?$/.test(u)) return u;
  if (/^\/(api\/v1|ui)\/[^\s]*$/.test(u) && !u.includes('//')) return u;
  return null;
}

export function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }

export function route(page, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return '#/' + page + (s ? '?' + s : '');
}

export class ApiError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}

export async function api(path, opts = {}) {
  const init = { method: opts.method || 'GET', credentials: 'same-origin', headers: {} };
  if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body);
    init.headers['Content-Type'] = 'application/json';
  }
  if (init.method !== 'GET' && state.session) init.headers['X-CSRF-Token'] = state.session.csrf;
  const r = await fetch(path, init);
  const text = await r.text();
  let v = text;
  try { v = JSON.parse(text); } catch (e) { /* text */ }
  if (!r.ok) {
    if (r.status === 401 && state.onAuthLost && !opts.noAuthLost) state.onAuthLost();
    throw new ApiError(r.status, (v && v.error) || ('HTTP ' + r.status));
  }
  return v;
}

export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

export const SEVS = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
export function sev(s) { return h('span', { class: 'sev sev-' + (SEVS.includes(s) ? s : 'UNKNOWN') }, s || 'UNKNOWN'); }

export function when(t) {
  if (!t) return '-';
  const d = new Date(t * 1000);
  return d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

export function notCollected(what) {
  return h('p', { class: 'nc' }, what + ': not collected');
}

export function errorBox(e) { return h('p', { class: 'err', role: 'alert' }, String(e.message || e)); }

// --- export ---------------------------------------------------------------
function cell(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function toCsv(rows, cols) {
  const esc = (s) => {
    s = cell(s);
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s; // no formulas in a spreadsheet
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  const out = [cols.map((c) => esc(c.label)).join(',')];
  for (const r of rows) out.push(cols.map((c) => esc(c.value ? c.value(r) : r[c.key])).join(','));
  return out.join('\r\n') + '\r\n';
}

export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', {});
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

// --- paged table ------------------------------------------------------------
// cols: [{key, label, value?(row) -> text for export, render?(row) -> node,
//         nowrap?}]
// fetchPage(cursor) -> {items, next, total?}; keyset paging, server side.
export function pagedTable({ cols, fetchPage, name, onOpen, empty }) {
  const wrap = h('div', { class: 'paged' });
  const info = h('span', { class: 'dim grow' });
  const prev = h('button', { type: 'button', title: 'Previous page ([)' }, 'Prev');
  const next = h('button', { type: 'button', title: 'Next page (])' }, 'Next');
  const csv = h('button', { type: 'button' }, 'Export CSV');
  const json = h('button', { type: 'button' }, 'Export JSON');
  const tbody = h('tbody');
  const table = h('table', { 'aria-label': name },
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c.label)))), tbody);
  wrap.append(h('div', { class: 'bar' }, info, prev, next, csv, json), h('div', { class: 'tbl-wrap' }, table));
  const stack = [];
  let cur = null, nextCur = null, items = [];
  async function load(cursor) {
    info.textContent = 'loading...';
    try {
      const p = await fetchPage(cursor);
      items = p.items || [];
      nextCur = p.next;
      cur = cursor;
      clear(tbody);
      for (const r of items) {
        const tr = h('tr', onOpen ? { tabindex: '0' } : {},
          cols.map((c) => h('td', c.nowrap ? { class: 'nw' } : {}, c.render ? c.render(r) : cell(c.value ? c.value(r) : r[c.key]))));
        if (onOpen) {
          tr.addEventListener('click', (ev) => { if (ev.target.tagName !== 'A' && ev.target.tagName !== 'BUTTON') select(tr, r); });
          tr.addEventListener('keydown', (ev) => {
            if (ev.key === 'Enter') select(tr, r);
            else if (ev.key === 'ArrowDown' && tr.nextSibling) { ev.preventDefault(); tr.nextSibling.focus(); }
            else if (ev.key === 'ArrowUp' && tr.previousSibling) { ev.preventDefault(); tr.previousSibling.focus(); }
          });
        }
        tbody.appendChild(tr);
      }
      if (!items.length) tbody.appendChild(h('tr', {}, h('td', { colspan: cols.length, class: 'dim' }, empty || 'nothing here')));
      const tot = p.total !== undefined ? ' of ' + p.total : '';
      info.textContent = 'page ' + (stack.length + 1) + ': ' + items.length + ' rows' + tot;
      prev.disabled = stack.length === 0;
      next.disabled = !nextCur;
    } catch (e) {
      info.textContent = '';
      clear(tbody).appendChild(h('tr', {}, h('td', { colspan: cols.length }, errorBox(e))));
    }
  }
  function select(tr, r) {
    for (const x of tbody.querySelectorAll('tr.sel')) x.classList.remove('sel');
    tr.classList.add('sel');
    onOpen(r);
  }
  prev.addEventListener('click', () => { if (stack.length) load(stack.pop()); });
  next.addEventListener('click', () => { if (nextCur) { stack.push(cur); load(nextCur); } });
  async function all() {   // every page, up to 10,000 rows
    const out = [];
    let c = null;
    do {
      const p = await fetchPage(c);
      out.push(...(p.items || []));
      c = p.next;
    } while (c && out.length < 10000);
    return out;
  }
  csv.addEventListener('click', async () => download(name + '.csv', toCsv(await all(), cols), 'text/csv'));
  json.addEventListener('click', async () => download(name + '.json', JSON.stringify(await all(), null, 1), 'application/json'));
  wrap.reload = () => load(cur);
  wrap.keys = (k) => { if (k === ']' && !next.disabled) next.click(); if (k === '[' && !prev.disabled) prev.click(); };
  load(null);
  return wrap;
}

// A table over rows already in hand (an inventory document), paged here.
export function localTable({ cols, rows, name, size = 50 }) {
  return pagedTable({
    cols, name,
    fetchPage: async (c) => {
      const at = c ? Number(c) : 0;
      return { items: rows.slice(at, at + size), next: at + size < rows.length ? String(at + size) : null, total: rows.length };
    },
  });
}

// --- trend chart ------------------------------------------------------------
const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

// trend: [{day, findings: {SEV: n}, events: {SEV: n}}]; one line per severity
export function trendChart(trend, what) {
  const W = 900, H = 180, L = 40, B = 22, T = 10;
  const svg = s('svg', { class: 'trend', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': what + ' per day by severity, last ' + trend.length + ' days' });
  let max = 1;
  for (const d of trend) for (const k of SEVS) max = Math.max(max, (d[what] || {})[k] || 0);
  const x = (i) => L + (i * (W - L - 10)) / Math.max(1, trend.length - 1);
  const y = (v) => H - B - (v * (H - B - T)) / max;
  svg.appendChild(s('line', { class: 'axis', x1: L, y1: H - B, x2: W - 10, y2: H - B }));
  svg.appendChild(s('text', { x: 4, y: T + 8 }, max));
  svg.appendChild(s('text', { x: 4, y: H - B }, 0));
  trend.forEach((d, i) => {
    if (i % 7 === 0 || i === trend.length - 1)
      svg.appendChild(s('text', { x: x(i) - 14, y: H - 6 }, when(d.day).slice(5, 10)));
  });
  const colors = { CRITICAL: 'var(--crit)', HIGH: 'var(--high)', MEDIUM: 'var(--med)', LOW: 'var(--low)', UNKNOWN: 'var(--unk)' };
  for (const k of SEVS) {
    const pts = trend.map((d, i) => x(i).toFixed(1) + ',' + y((d[what] || {})[k] || 0).toFixed(1)).join(' ');
    const line = s('polyline', { points: pts, fill: 'none', 'stroke-width': 2 });
    line.style.stroke = colors[k];
    line.appendChild(s('title', {}, k));
    svg.appendChild(line);
  }
  return svg;
}

export function kv(pairs) {
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of pairs) dl.append(h('dt', {}, k), h('dd', {}, v instanceof Node ? v : cell(v)));
  return dl;
}
