// profiles.js - the Runtime page's profiles and captures (issue 20a): the
// behaviour profiles agents learned (per host and image key), one profile's
// content (processes, files, listening ports, outbound connections, as the
// agent wrote them) with its drift (the "Profile deviation: ..." alerts
// that host sent for that image), turning a profile into the enforced
// policy of its host (admins and operators; a confirmation step here, an
// explicit {"confirm": true} and an audit line on the server), and the
// captures each agent keeps.  Every name and path is attacker-controlled:
// all of it goes through h() as text.
import { h, api, qs, route, localTable, when, kv, errorBox, notCollected, sev, state } from './ui.js';

function tabs(active) {
  const t = [['runtime', 'Alerts'], ['profiles', 'Profiles and drift'], ['captures', 'Captures']];
  return h('p', { class: 'bar', id: 'runtime-tabs' }, t.map(([id, label]) =>
    h('a', { href: route(id), 'aria-current': id === active ? 'page' : null }, label)));
}

function period(r) { return when(r.learned_start) + ' \u2192 ' + when(r.learned_end); }
function counts(r) {
  const c = r.counts || {};
  return ['processes', 'files', 'listen', 'connect'].map((k) => k + ' ' + (c[k] === undefined ? '-' : c[k])).join(', ');
}

export async function profiles(main, params, cur) {
  const f = {};
  for (const k of ['host', 'state', 'image']) if (params.get(k)) f[k] = params.get(k);
  main.append(h('h1', {}, 'Runtime profiles'), tabs('profiles'));
  const hostIn = h('input', { name: 'host', placeholder: 'host id', value: f.host || '', 'aria-label': 'Host' });
  const stSel = h('select', { name: 'state', 'aria-label': 'State' }, h('option', { value: '' }, 'any state'),
    ['learned', 'enforced'].map((s) => h('option', { value: s, selected: f.state === s }, s)));
  const form = h('form', { class: 'bar' }, hostIn, stSel, h('button', { type: 'submit' }, 'Filter'), h('a', { href: route('profiles') }, 'clear'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = route('profiles', { host: hostIn.value.trim(), state: stSel.value });
  });
  main.append(form);
  let items;
  try { items = (await api('/api/v1/profiles' + qs(f))).items; } catch (e) { main.append(errorBox(e)); return; }
  if (!items.length) { main.append(notCollected('Learned profiles (run `mamori agent --learn ... --mamori-server ...`)')); return; }
  const t = localTable({
    name: 'profiles', rows: items,
    cols: [
      { key: 'host_id', label: 'Host', nowrap: true },
      { key: 'image', label: 'Image', render: (r) => h('a', { href: route('profile', { id: r.id }), class: 'mono' }, r.image) },
      { key: 'state', label: 'State', render: (r) => h('span', { class: r.state === 'enforced' ? 'sev sev-LOW' : 'dim' }, r.state) },
      { key: 'learned', label: 'Learned', nowrap: true, value: period },
      { key: 'counts', label: 'Entries', value: counts },
      { key: 'enforced_by', label: 'Enforced by', value: (r) => (r.enforced_by ? r.enforced_by + ' at ' + when(r.enforced_at) : '') },
      { key: 'id', label: 'ID', nowrap: true },
    ],
  });
  cur.keys = t.keys;
  main.append(t);
}

const CATS = {
  processes: [{ key: 'exe', label: 'Executable' }, { key: 'name', label: 'Name' },
    { key: 'parents', label: 'Parents', value: (r) => (Array.isArray(r.parents) ? r.parents.join(', ') : (r.parents || 'any')) }],
  files: [{ key: 'path', label: 'Path written' }],
  listen: [{ key: 'proto', label: 'Protocol' }, { key: 'port', label: 'Port' }],
  connect: [{ key: 'dest', label: 'Destination' }, { key: 'port', label: 'Port' }, { key: 'proto', label: 'Protocol' }],
};

function content(im) {
  const out = [];
  for (const [cat, cols] of Object.entries(CATS)) {
    out.push(h('h3', {}, cat));
    const rows = im[cat];
    if (rows === undefined || rows === null) { out.push(h('p', { class: 'dim' }, cat + ': not checked (absent from the profile)')); continue; }
    out.push(localTable({
      name: 'profile-' + cat, rows,
      cols: cols.concat([{ key: 'count', label: 'Count' }, { key: 'first_seen', label: 'First seen', nowrap: true }]),
    }));
  }
  return out;
}

function actionText(a) {
  if (!a) return 'none (alert only)';
  if (typeof a === 'string') return a === 'kill' ? 'kill (SIGKILL the deviating process)' : a + ' (alert only)';
  return Object.entries(a).map(([k, v]) => k + ': ' + v).join(', ');
}

export async function profile(main, params) {
  const id = params.get('id') || '';
  main.append(h('h1', {}, 'Profile ', h('span', { class: 'mono' }, id)), tabs('profiles'));
  let p;
  try { p = await api('/api/v1/profiles/' + encodeURIComponent(id)); } catch (e) { main.append(errorBox(e)); return; }
  const im = ((p.doc || {}).images || [])[0] || {};
  const stateBox = h('span', { id: 'profile-state' }, p.state);
  const byBox = h('span', { id: 'profile-enforced-by' }, p.enforced_by ? p.enforced_by + ' at ' + when(p.enforced_at) : '-');
  main.append(kv([['Host', p.host_id], ['Image', p.image], ['State', stateBox],
    ['Enforced by', byBox],
    ['Learned', period(p)], ['Received', when(p.received)], ['Priority of deviations', im.priority || 'Warning'],
    ['Action on deviation', actionText(im.action)], ['Drift alerts', String(p.drift)]]));
  main.append(h('p', {}, h('a', { href: '/api/v1/profiles/' + encodeURIComponent(id), target: '_blank', rel: 'noopener' }, 'the profile as JSON'), ' \u00b7 ',
    h('a', { href: route('runtime', { host: p.host_id }) }, 'all alerts of this host')));
  const canAct = state.session.role === 'admin' || state.session.role === 'operator';
  if (canAct) {
    const msg = h('p', { role: 'status', id: 'enforce-msg' });
    const btn = h('button', { type: 'button', class: 'primary', id: 'enforce' }, p.state === 'enforced' ? 'Enforced (enforce again)' : 'Enforce this profile');
    const confirmBtn = h('button', { type: 'button', id: 'enforce-confirm', hidden: true }, 'Confirm: enforce');
    const cancel = h('button', { type: 'button', id: 'enforce-cancel', hidden: true }, 'Cancel');
    btn.addEventListener('click', () => {
      msg.textContent = 'Enforce this profile on host ' + p.host_id + ' for image ' + p.image +
        '? The agent (with --server-profiles) will then alert' + (JSON.stringify(im.action || 'none').includes('kill') ? ' and kill' : '') +
        ' on everything the profile does not list. Any profile enforced earlier for this host and image goes back to learned.';
      confirmBtn.hidden = false; cancel.hidden = false; btn.disabled = true;
    });
    cancel.addEventListener('click', () => { confirmBtn.hidden = true; cancel.hidden = true; btn.disabled = false; msg.textContent = ''; });
    confirmBtn.addEventListener('click', async () => {
      confirmBtn.hidden = true; cancel.hidden = true;
      try {
        const r = await api('/api/v1/profiles/' + encodeURIComponent(id) + '/enforce', { method: 'POST', body: { confirm: true } });
        stateBox.textContent = r.state;
        byBox.textContent = r.enforced_by + ' at ' + when(r.enforced_at);
        btn.textContent = 'Enforced (enforce again)';
        stop.hidden = false;
        msg.textContent = 'enforced by ' + r.enforced_by + (r.replaced ? ' (the earlier enforced profile went back to learned)' : '');
      } catch (e) { msg.textContent = 'failed: ' + e.message; }
      btn.disabled = false;
    });
    // stopping the enforcement: two steps as well
    const stop = h('button', { type: 'button', id: 'unenforce', hidden: p.state !== 'enforced' }, 'Stop enforcing');
    let armed = false;
    stop.addEventListener('click', async () => {
      if (!armed) {
        armed = true;
        stop.textContent = 'Confirm: stop enforcing';
        msg.textContent = 'Stop enforcing this profile on host ' + p.host_id + '? Its image is then no longer checked there.';
        return;
      }
      armed = false;
      stop.textContent = 'Stop enforcing';
      try {
        const r = await api('/api/v1/profiles/' + encodeURIComponent(id) + '/unenforce', { method: 'POST', body: { confirm: true } });
        stateBox.textContent = r.state;
        byBox.textContent = '-';
        stop.hidden = true;
        btn.textContent = 'Enforce this profile';
        msg.textContent = 'no longer enforced';
      } catch (e) { msg.textContent = 'failed: ' + e.message; }
    });
    main.append(h('div', { class: 'bar' }, btn, confirmBtn, cancel, stop), msg);
  }
  main.append(h('h2', {}, 'Content'), ...content(im));
  main.append(h('h2', {}, 'Drift'));
  let drift = [];
  try { drift = (await api('/api/v1/profiles/' + encodeURIComponent(id) + '/drift')).items; } catch (e) { main.append(errorBox(e)); }
  main.append(drift.length ? localTable({
    name: 'drift', rows: drift,
    cols: [
      { key: 'severity', label: 'Severity', nowrap: true, render: (r) => sev(r.severity) },
      { key: 'ts', label: 'Time', nowrap: true, value: (r) => when(r.ts) },
      { key: 'category', label: 'Category' }, { key: 'deviation', label: 'Deviation', render: (r) => h('span', { class: 'mono' }, r.deviation || '') },
      { key: 'container', label: 'Container' }, { key: 'action', label: 'Action' },
      { key: 'kill', label: 'Kill', value: (r) => (((r.event || {}).output_fields || {})['mamori.kill'] || '') },
    ],
  }) : h('p', { class: 'dim', id: 'no-drift' }, 'no deviation alerts from this host for this image'));
}

function size(n) {
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + ' MiB';
  if (n >= 1024) return (n / 1024).toFixed(1) + ' KiB';
  return n + ' B';
}

export async function captures(main, params, cur) {
  const host = params.get('host') || '';
  main.append(h('h1', {}, 'Captures'), tabs('captures'));
  main.append(h('p', { class: 'dim' }, 'The capture files each agent keeps (mamori agent --capture), with the alerts its host sent within each one\u2019s time range: replay a file with `mamori runtime replay FILE` (download it when the agent sent it: --capture-upload-max).'));
  let items;
  try { items = (await api('/api/v1/captures' + qs({ host }))).items; } catch (e) { main.append(errorBox(e)); return; }
  if (!items.length) { main.append(notCollected('Captures (run `mamori agent --capture FILE --mamori-server ...`)')); return; }
  const t = localTable({
    name: 'captures', rows: items,
    cols: [
      { key: 'host_id', label: 'Host', nowrap: true, render: (r) => h('a', { href: route('captures', { host: r.host_id }) }, r.host_id) },
      { key: 'file', label: 'File', render: (r) => h('span', { class: 'mono' }, r.file) },
      { key: 'start_ts', label: 'From', nowrap: true, value: (r) => when(r.start_ts) },
      { key: 'end_ts', label: 'To', nowrap: true, value: (r) => when(r.end_ts) },
      { key: 'size', label: 'Size', nowrap: true, value: (r) => size(r.size) },
      { key: 'events', label: 'Events' },
      { key: 'alerts', label: 'Alerts in range', render: (r) => h('a', { href: route('runtime', { host: r.host_id }) }, String(r.alerts)) },
      { key: 'stored', label: 'Stored', value: (r) => (r.stored ? 'stored' : 'on the host only'),
        render: (r) => (r.stored ? h('a', { href: '/api/v1/captures/' + Number(r.stored) + '/file', download: '' }, 'download') : h('span', { class: 'dim' }, 'on the host only')) },
    ],
  });
  cur.keys = t.keys;
  main.append(t);
}
