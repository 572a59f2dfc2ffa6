// pages.js - Overview (the SP 800-190 coverage matrix of the fleet with the
// evidence behind each row, counts by severity, the trend), Images (every
// image or root filesystem seen, its latest scan, findings by severity and
// kind), one image, the findings list behind a row, and Registries.
import { h, api, qs, route, pagedTable, localTable, sev, when, SEVS, trendChart, notCollected, errorBox, clear, kv, state } from './ui.js';

const RUNTIME = /^3\.(3|4|5)/;

// pages that hold a row's evidence beyond findings and alerts
const ROW_PAGES = { R01: 'images', R02: 'registries', R03: 'images', R08: 'registries', R10: 'images',
  R11: 'registries', R12: 'registries', R13: 'registries', R24: 'hosts',
  R25: 'hosts', R26: 'hosts', R29: 'hosts', R30: 'settings' };

function rowLinks(r) {
  const links = [];
  const pg = ROW_PAGES[r.id];
  if (pg && (pg !== 'settings' || state.session.role === 'admin')) links.push(h('a', { href: route(pg) }, pg));
  if (r.section !== 'ops') links.push(h('a', { href: route('findings', { section: r.section }) }, 'findings'));
  // R33 (every finding's section): the evidence is the report itself
  if (r.id === 'R33') links.push(h('a', { href: '/api/v1/report?scope=fleet&format=html', target: '_blank', rel: 'noopener' }, 'report'));
  if (RUNTIME.test(r.section) || r.section === 'ops')
    links.push(h('a', { href: route('runtime', r.section === 'ops' ? {} : { section: r.section }) }, 'alerts'));
  return links.flatMap((a, i) => (i ? [' · ', a] : [a]));
}

export async function overview(main) {
  main.append(h('h1', {}, 'Overview'));
  const cards = h('div', { class: 'cards' });
  const trend = h('div');
  const matrix = h('div', {}, h('p', { class: 'dim' }, 'loading the coverage matrix...'));
  main.append(cards, h('h2', {}, 'Findings per day (last 30 days)'), trend,
    h('h2', {}, 'SP 800-190 coverage'),
    h('div', { class: 'bar' }, h('span', { class: 'grow dim' }, 'Every row of the comparison, its state for this fleet and the evidence.'),
      h('a', { href: '/api/v1/report?scope=fleet&format=html', target: '_blank', rel: 'noopener' }, 'Fleet report (HTML)'),
      h('a', { href: '/api/v1/report?scope=fleet&format=json', target: '_blank', rel: 'noopener' }, 'JSON')),
    matrix);
  const s = await api('/api/v1/summary');
  for (const k of SEVS)
    cards.append(h('a', { class: 'card', href: route('findings', { severity: k }) }, h('div', { class: 'n' }, s.findings[k] || 0), h('div', { class: 'l' }, sev(k), ' findings')));
  cards.append(h('div', { class: 'card' }, h('div', { class: 'n' }, s.images), h('div', { class: 'l' }, 'images and roots')),
    h('div', { class: 'card' }, h('div', { class: 'n' }, s.scans), h('div', { class: 'l' }, 'scans')),
    h('div', { class: 'card' }, h('div', { class: 'n' }, s.hosts), h('div', { class: 'l' }, 'hosts')),
    h('a', { class: 'card', href: route('runtime') }, h('div', { class: 'n' }, s.alerts), h('div', { class: 'l' }, 'runtime alerts')));
  trend.append(trendChart(s.trend, 'findings'),
    h('div', { class: 'legend dim' }, SEVS.map((k) => h('span', {}, sev(k)))));
  try {
    const m = await api('/api/v1/report' + qs({ scope: 'fleet', format: 'json', matrix: 1 }));
    const cols = [
      { key: 'id', label: 'Row', nowrap: true }, { key: 'section', label: 'Section', nowrap: true }, { key: 'check', label: 'Check' },
      { key: 'state', label: 'State', render: (r) => h('span', { class: 'state state-' + r.state.replace(' ', '-') }, r.state) },
      { key: 'findings', label: 'Findings', nowrap: true }, { key: 'evidence', label: 'Evidence' },
      { key: 'links', label: 'Open', value: () => '', render: rowLinks },
    ];
    const counts = { passing: 0, findings: 0, 'not covered': 0 };
    for (const r of m.rows) counts[r.state] = (counts[r.state] || 0) + 1;
    clear(matrix).append(
      h('p', {}, m.inputs + ' latest scans read: ', counts.passing + ' passing, ', counts.findings + ' with findings, ', counts['not covered'] + ' not covered.'),
      pagedTable({ cols, name: 'sp800-190-matrix', fetchPage: async () => ({ items: m.rows, next: null, total: m.rows.length }) }));
  } catch (e) {
    clear(matrix).appendChild(errorBox(e));
  }
}

function sevCounts(o) {
  return SEVS.filter((k) => o && o[k]).map((k) => h('span', {}, sev(k), ' ', o[k], ' '));
}

export async function images(main, params, cur) {
  main.append(h('h1', {}, 'Images'),
    h('p', { class: 'dim' }, 'Every image and root filesystem scanned, with its latest scan. Open one for its findings.'));
  const t = pagedTable({
    name: 'images',
    cols: [
      { key: 'name', label: 'Image', render: (r) => h('a', { href: route('image', { name: r.name }) }, r.name) },
      { key: 'kind', label: 'Kind', nowrap: true }, { key: 'scans', label: 'Scans', nowrap: true },
      { key: 'last_scan', label: 'Last scan', nowrap: true, value: (r) => when(r.last_scan) },
      { key: 'hosts', label: 'In use / scanned on', value: (r) => (r.hosts || []).join(' ') },
      { key: 'severity', label: 'Findings by severity', render: (r) => sevCounts(r.severity) },
      { key: 'kinds', label: 'By kind', value: (r) => Object.entries(r.kinds || {}).map(([k, n]) => k + ' ' + n).join(', ') },
    ],
    fetchPage: (c) => api('/api/v1/images' + qs({ limit: 50, after: c, total: 1 })),
    onOpen: (r) => { location.hash = route('image', { name: r.name }); },
    empty: 'no scans yet: `mamori image ... --server URL --token T` uploads one',
  });
  cur.keys = t.keys;
  main.append(t);
}

export async function image(main, params, cur) {
  const name = params.get('name') || '';
  main.append(h('h1', {}, 'Image ', h('span', { class: 'mono' }, name)));
  const p = await api('/api/v1/images' + qs({ name }));
  const it = (p.items || []).find((x) => x.name === name);
  if (!it) { main.append(h('p', {}, 'No scan of this image.')); return; }
  const osCell = h('span', { id: 'image-os' }, '-');
  const dbCell = h('span', { id: 'image-db' }, '-');
  main.append(h('div', { class: 'panel' }, kv([
    ['Kind', it.kind], ['OS', osCell], ['Scans', it.scans], ['Last scan', when(it.last_scan)],
    ['Vulnerability DB at the scan', dbCell],
    ['Scanned on', (it.hosts || []).join(', ') || '-'],
    ['Findings', h('span', {}, sevCounts(it.severity))],
    ['By kind', Object.entries(it.kinds || {}).map(([k, n]) => k + ' ' + n).join(', ') || 'none'],
    ['Report', h('span', {}, h('a', { href: '/api/v1/report' + qs({ image: name, format: 'html' }), target: '_blank', rel: 'noopener' }, 'SP 800-190 (HTML)'), ' · ',
      h('a', { href: '/api/v1/report' + qs({ image: name, format: 'json' }), target: '_blank', rel: 'noopener' }, 'JSON'), ' · ',
      h('a', { href: '/api/v1/scans/' + encodeURIComponent(it.scan_id), target: '_blank', rel: 'noopener' }, 'scan report')),
    ],
  ])));
  const kind = params.get('kind') || '';
  const sel = h('select', { 'aria-label': 'Finding kind' }, h('option', { value: '' }, 'all kinds'),
    Object.keys(it.kinds || {}).map((k) => h('option', { value: k, selected: k === kind }, k)));
  sel.addEventListener('change', () => { location.hash = route('image', { name, kind: sel.value }); });
  main.append(h('h2', {}, 'Findings of the latest scan'), h('div', { class: 'bar' }, sel));
  const t = findingsTable({ scan: it.scan_id, kind });
  cur.keys = t.keys;
  main.append(t);
  // fixed versions are in the scan reports, not in the findings table: read
  // on demand through the image's SP 800-190 report
  const fixBox = h('div', {});
  const fixBtn = h('button', { type: 'button', id: 'load-fixed' }, 'Show vulnerabilities with their fixed versions');
  fixBtn.addEventListener('click', async () => {
    fixBtn.disabled = true;
    clear(fixBox).append(h('p', { class: 'dim' }, 'reading the report...'));
    try {
      const rep = await api('/api/v1/report' + qs({ image: name, format: 'json' }));
      const rows = [];
      for (const sec of rep.sections || [])
        for (const f of sec.findings || [])
          if (f.kind === 'vulnerability') rows.push(Object.assign({ section: sec.section }, f));
      clear(fixBox).append(localTable({
        name: 'fixed-versions', rows,
        cols: [{ key: 'severity', label: 'Severity', nowrap: true, render: (r) => sev(r.severity) },
          { key: 'id', label: 'ID', nowrap: true }, { key: 'where', label: 'Package' },
          { key: 'remediation', label: 'Fix', value: (r) => r.remediation || 'no fix known' },
          { key: 'title', label: 'Title' }],
      }));
    } catch (e) { clear(fixBox).append(errorBox(e)); }
  });
  main.append(h('h2', {}, 'Fixed versions'), h('div', { class: 'bar' }, fixBtn), fixBox);
  main.append(h('h2', {}, 'Signature and trust'));
  await trustPanel(main, it, osCell, dbCell);
  if (it.kind === 'image') await versionDiff(main, name, it);
  if (!it.image) return;
  main.append(h('h2', {}, 'Scans'), pagedTable({
    name: 'scans', cols: [{ key: 'scan_id', label: 'Scan' }, { key: 'kind', label: 'Kind', nowrap: true }, { key: 'host_id', label: 'Host' },
      { key: 'received', label: 'Received', nowrap: true, value: (r) => when(r.received) }, { key: 'findings', label: 'Findings', nowrap: true }],
    fetchPage: (c) => api('/api/v1/scans' + qs({ image: it.image, after: c, limit: 20 })),
  }));
}

// Signature: the `signature` member of the latest scan report (the document
// of `mamori verify --format json`) when the uploader put one there, else
// "not collected"; trust: the scan's findings of kind trust (transport,
// provenance, admission).  A report of more than 5,000 findings is read on
// demand only.
function signatureView(sig) {
  if (!sig || typeof sig !== 'object') return notCollected('Signature verification (the scan report carries none)');
  const keys = Array.isArray(sig.keys) ? sig.keys : [];
  const sigs = Array.isArray(sig.signatures) ? sig.signatures : [];
  return h('div', { id: 'signature' }, kv([
    ['Signature', h('span', { class: 'state ' + (sig.verified === true ? 'state-passing' : 'state-findings') },
      sig.verified === true ? 'verified' : sig.signatures_found ? 'not verified' : 'not verified (no signature)')],
    ['Digest', String(sig.digest || '-')],
    ['Keys', keys.map((k) => String(k.type || '') + ' ' + String(k.id || '')).join(', ') || '-'],
    ['Signature layers', sigs.map((x) => (x.valid ? 'valid' : 'invalid') + (x.reason ? ' (' + String(x.reason) + ')' : '')).join(', ') || 'none'],
    ['Error', String(sig.error || '-')],
  ]));
}

// the vulnerability database the scan matched against (the report's
// "vulnerabilityDB" member): its build date and age in days at the scan
function dbAgeOf(rep) {
  const d = rep && typeof rep.vulnerabilityDB === 'object' && rep.vulnerabilityDB ? rep.vulnerabilityDB : null;
  if (!d) return 'none (the scan matched no vulnerability database)';
  if (typeof d.ageDays !== 'number') return 'built at an unknown time';
  const built = typeof d.builtAt === 'string' ? d.builtAt.slice(0, 10) : '?';
  return 'built ' + built + ', ' + d.ageDays + (d.ageDays === 1 ? ' day' : ' days') + ' old' +
    (d.ageDays > 7 ? ' (older than 7 days: run `mamori db update`)' : '');
}

// the OS the scan report names ("debian 12"), or null
function osOf(rep) {
  const o = rep && typeof rep.os === 'object' && rep.os ? rep.os : {};
  return o.family ? String(o.family) + (o.version ? ' ' + String(o.version) : '') : null;
}

async function trustPanel(main, it, osCell, dbCell) {
  const box = h('div', { id: 'trust-box' });
  main.append(box);
  const tf = await api('/api/v1/findings' + qs({ scan: it.scan_id, kind: 'trust', limit: 100 }));
  const showSig = async () => {
    try {
      const rep = await api('/api/v1/scans/' + encodeURIComponent(it.scan_id));
      clear(osCell).append(osOf(rep) || 'not identified');
      clear(dbCell).append(dbAgeOf(rep));
      return signatureView(rep.signature);
    } catch (e) { return errorBox(e); }
  };
  const sigBox = h('div', {});
  box.append(sigBox);
  if ((it.findings || 0) <= 5000) sigBox.append(await showSig());
  else {
    const b = h('button', { type: 'button' }, 'Read the scan report for its signature');
    b.addEventListener('click', async () => { b.disabled = true; clear(sigBox).append(await showSig()); });
    sigBox.append(b);
  }
  box.append(h('h3', {}, 'Trust findings of the latest scan'), tf.items.length ? localTable({
    name: 'trust', rows: tf.items,
    cols: [{ key: 'severity', label: 'Severity', nowrap: true, render: (r) => sev(r.severity) },
      { key: 'finding_id', label: 'ID', nowrap: true }, { key: 'section', label: 'Section', nowrap: true },
      { key: 'title', label: 'Title' }, { key: 'path', label: 'Where', value: (r) => r.path || r.package || '' }],
  }) : h('p', { class: 'dim' }, 'none (no registry transport, provenance or admission finding)'));
}

// every finding of one scan (up to 5,000), keyed by id and place
async function scanFindings(scanId) {
  const out = new Map();
  let c = null;
  do {
    const p = await api('/api/v1/findings' + qs({ scan: scanId, limit: 1000, after: c }));
    for (const f of p.items) out.set(f.finding_id + '|' + (f.package || f.path || ''), f);
    c = p.next;
  } while (c && out.size < 5000);
  return out;
}

// Another version of the same repository (same name before the tag or
// digest): the findings only one of the two latest scans has.
async function versionDiff(main, name, it) {
  const repo = name.replace(/[:@][^:/@]*$/, '');
  const p = await api('/api/v1/images' + qs({ after: repo, limit: 200 }));
  const others = (p.items || []).filter((x) => x.name !== name &&
    (x.name.startsWith(repo + ':') || x.name.startsWith(repo + '@')));
  main.append(h('h2', {}, 'Compare with another version'));
  if (!others.length) { main.append(h('p', { class: 'dim' }, 'No other version of ' + repo + ' was scanned.')); return; }
  const sel = h('select', { id: 'diff-other', 'aria-label': 'Other version' }, others.map((x) => h('option', { value: x.name }, x.name)));
  const btn = h('button', { type: 'button', id: 'diff-go' }, 'Compare');
  const box = h('div', { id: 'diff-box' });
  btn.addEventListener('click', async () => {
    clear(box).append(h('p', { class: 'dim' }, 'comparing...'));
    try {
      const o = others.find((x) => x.name === sel.value);
      const [a, b] = await Promise.all([scanFindings(it.scan_id), scanFindings(o.scan_id)]);
      const only = (x, y) => [...x.entries()].filter(([k]) => !y.has(k)).map(([, f]) => f);
      const cols = [{ key: 'severity', label: 'Severity', nowrap: true, render: (r) => sev(r.severity) },
        { key: 'finding_id', label: 'ID', nowrap: true }, { key: 'kind', label: 'Kind' },
        { key: 'package', label: 'Package' }, { key: 'path', label: 'Path' }, { key: 'title', label: 'Title' }];
      const ra = only(a, b), rb = only(b, a);
      clear(box).append(
        h('h3', {}, ra.length + ' only in ' + name), localTable({ name: 'only-here', rows: ra, cols }),
        h('h3', {}, rb.length + ' only in ' + o.name), localTable({ name: 'only-there', rows: rb, cols }));
    } catch (e) { clear(box).append(errorBox(e)); }
  });
  main.append(h('div', { class: 'bar' }, sel, btn), box);
}

function findingsTable(filter) {
  return pagedTable({
    name: 'findings',
    cols: [
      { key: 'severity', label: 'Severity', nowrap: true, render: (r) => sev(r.severity) },
      { key: 'finding_id', label: 'ID', render: (r) => h('span', { class: 'mono' }, r.finding_id) },
      { key: 'kind', label: 'Kind', nowrap: true }, { key: 'section', label: 'Section', nowrap: true },
      { key: 'package', label: 'Package' }, { key: 'path', label: 'Path', render: (r) => h('span', { class: 'mono' }, r.path || '') },
      { key: 'title', label: 'Title' },
      { key: 'image', label: 'Image', render: (r) => (r.image ? h('a', { href: route('image', { name: r.image }) }, r.image) : '') },
      { key: 'host_id', label: 'Host' },
    ],
    fetchPage: (c) => api('/api/v1/findings' + qs(Object.assign({ limit: 100, after: c, total: 1 }, filter))),
  });
}

export async function findings(main, params, cur) {
  const f = {};
  for (const k of ['section', 'severity', 'kind', 'image', 'host', 'scan']) if (params.get(k)) f[k] = params.get(k);
  main.append(h('h1', {}, 'Findings'),
    h('p', { class: 'dim' }, Object.keys(f).length ? Object.entries(f).map(([k, v]) => k + ' = ' + v).join(', ') : 'all findings'),
    h('p', { class: 'dim' }, 'Every finding of every scan received (a target scanned twice shows twice).'));
  const t = findingsTable(f);
  cur.keys = t.keys;
  main.append(t);
}

// A registry is the host part of an image reference ("docker.io" when none).
export function registryOf(ref) {
  const i = ref.indexOf('/');
  if (i < 0) return ref.includes(':') || ref.startsWith('/') ? null : 'docker.io';
  const hpart = ref.slice(0, i);
  if (ref.startsWith('/')) return null;
  return hpart.includes('.') || hpart.includes(':') || hpart === 'localhost' ? hpart : 'docker.io';
}

// The latest `mamori registry check --server` result of each registry
// (scans of kind registry-check; their report carries every check's
// verdict under registryCheck), keyed by registry.
async function registryChecks() {
  const latest = new Map();
  let c = null, n = 0;
  do {
    const p = await api('/api/v1/scans' + qs({ kind: 'registry-check', limit: 500, after: c }));
    for (const s of p.items) latest.set(s.target, s);   // ascending: the last one wins
    n += p.items.length;
    c = p.next;
  } while (c && n < 5000);
  const out = new Map();
  for (const [reg, s] of [...latest.entries()].slice(0, 100)) {
    try {
      const rep = await api('/api/v1/scans/' + encodeURIComponent(s.scan_id));
      out.set(reg, { scan: s, check: rep.registryCheck || null });
    } catch (e) { out.set(reg, { scan: s, check: null, error: e }); }
  }
  return out;
}

// the registry a schedule's params.registry names ("HOST" or "HOST/REPO")
function scheduleRegistry(s) {
  const r = s && s.params && typeof s.params.registry === 'string' ? s.params.registry : '';
  return r.replace(/^[a-z]+:\/\//, '').split('/')[0] || null;
}

// the schedule kinds of a registry: image rescans and security checks
const REG_KINDS = ['registry-rescan', 'registry-check'];

const VERDICT_CLASS = { pass: 'state-passing', fail: 'state-findings', 'not-applicable': 'state-not-covered', error: 'state-not-covered' };

export async function registries(main) {
  main.append(h('h1', {}, 'Registries'),
    h('p', { class: 'dim' }, 'The registries of the images seen (from their references) and of the registry checks received, with their scan schedules and security checks.'));
  const all = [];
  let c = null;
  do {
    const p = await api('/api/v1/images' + qs({ limit: 500, after: c }));
    all.push(...p.items);
    c = p.next;
  } while (c && all.length < 5000);
  let scheds = null, schedErr = null;
  try {
    scheds = (await api('/api/v1/schedules', { noAuthLost: true })).items || [];
  } catch (e) { schedErr = e; }
  let checks = new Map(), checkErr = null;
  try { checks = await registryChecks(); } catch (e) { checkErr = e; }
  const regs = new Map();
  const now = Date.now() / 1000;
  const get = (r) => regs.get(r) || { registry: r, images: 0, findings: 0, stale: 0, last: 0 };
  for (const it of all) {
    if (it.kind !== 'image' || !it.image) continue;
    const r = registryOf(it.image);
    if (!r) continue;
    const x = get(r);
    x.images++;
    x.findings += it.findings || 0;
    if (now - it.last_scan > 7 * 86400) x.stale++;
    x.last = Math.max(x.last, it.last_scan);
    regs.set(r, x);
  }
  for (const r of checks.keys()) regs.set(r, get(r));
  for (const s of scheds || []) if (REG_KINDS.includes(s.kind) && scheduleRegistry(s)) regs.set(scheduleRegistry(s), get(scheduleRegistry(s)));
  const schedOf = (r, kind) => (scheds || []).filter((s) => s.kind === kind && scheduleRegistry(s) === r);
  const schedText = (r, kind) => (scheds ? schedOf(r, kind).map((s) => s.name + ' every ' + s.every + ' s' +
    (s.last_status ? ' (last ' + s.last_status + ')' : '')).join(', ') || 'none' : 'not collected');
  const checkSummary = (r) => {
    const x = checks.get(r);
    if (!x || !x.check) return checkErr ? 'error' : 'not collected';
    const s = x.check.summary || {};
    return (s.fail || 0) + ' failed, ' + (s.pass || 0) + ' passed';
  };
  const rows = [...regs.values()].sort((a, b) => a.registry.localeCompare(b.registry));
  main.append(pagedTable({
    name: 'registries',
    cols: [{ key: 'registry', label: 'Registry', render: (r) => h('span', { class: 'mono' }, r.registry) },
      { key: 'images', label: 'Images' }, { key: 'findings', label: 'Findings (latest scans)' },
      { key: 'stale', label: 'Not scanned for 7 days' }, { key: 'last', label: 'Last scan', value: (r) => when(r.last) },
      { key: 'schedule', label: 'Rescan schedule', value: (r) => schedText(r.registry, 'registry-rescan') },
      { key: 'checks', label: 'Security checks', value: (r) => checkSummary(r.registry) },
      { key: 'check_schedule', label: 'Check schedule', value: (r) => schedText(r.registry, 'registry-check') }],
    fetchPage: async () => ({ items: rows, next: null, total: rows.length }),
    empty: 'no image scans or registry checks yet',
  }));
  main.append(h('h2', {}, 'Scan schedules'));
  if (schedErr) main.append(schedErr.status === 404 ? notCollected('Registry scan schedules') : errorBox(schedErr));
  else {
    const rs = scheds.filter((s) => REG_KINDS.includes(s.kind));
    main.append(rs.length ? pagedTable({
      name: 'schedules',
      cols: [{ key: 'name', label: 'Schedule' }, { key: 'kind', label: 'Kind', nowrap: true },
        { key: 'registry', label: 'Registry', value: (s) => (s.params && s.params.registry) || '' },
        { key: 'every', label: 'Every (s)', nowrap: true }, { key: 'next_run', label: 'Next run', nowrap: true, value: (s) => when(s.next_run) },
        { key: 'last_run', label: 'Last run', nowrap: true, value: (s) => when(s.last_run) },
        { key: 'last_status', label: 'Last status' }, { key: 'runs', label: 'Runs', nowrap: true }],
      fetchPage: async () => ({ items: rs, next: null, total: rs.length }),
    }) : h('p', { class: 'dim' }, 'No registry-rescan or registry-check schedule (server --config, docs/server-ops.md).'));
  }
  main.append(h('h2', {}, 'Registry security checks'),
    h('p', { class: 'dim' }, 'The latest check of each registry, uploaded by `mamori registry check REGISTRY --server URL` or run by a registry-check schedule (SP 800-190 3.2.1, 3.2.3).'));
  if (checkErr) { main.append(errorBox(checkErr)); return; }
  if (!checks.size) { main.append(notCollected('Registry checks (run `mamori registry check REGISTRY --server URL --token T`)')); return; }
  for (const [reg, x] of [...checks.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    main.append(h('h3', { class: 'mono' }, reg),
      h('p', { class: 'dim' }, 'checked ' + when(x.scan.received) + ' · ', h('a', { href: route('findings', { scan: x.scan.scan_id }) }, x.scan.findings + ' findings'),
        ' · scheduled: ' + schedText(reg, 'registry-check')));
    if (!x.check) { main.append(x.error ? errorBox(x.error) : notCollected('The checks of this upload')); continue; }
    main.append(localTable({
      name: 'registry-checks',
      rows: x.check.checks || [],
      cols: [{ key: 'id', label: 'ID', nowrap: true }, { key: 'name', label: 'Check', nowrap: true },
        { key: 'title', label: 'Title' }, { key: 'section', label: 'Section', nowrap: true },
        { key: 'severity', label: 'Severity', nowrap: true, render: (r) => sev(r.severity) },
        { key: 'verdict', label: 'Verdict', nowrap: true, render: (r) => h('span', { class: 'state verdict ' + (VERDICT_CLASS[r.verdict] || '') }, String(r.verdict)) },
        { key: 'evidence', label: 'Evidence', render: (r) => h('span', { class: 'mono' }, String(r.evidence || '')) }],
    }));
  }
}
