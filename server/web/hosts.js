// hosts.js - the Hosts page (every host an agent or a scan named), one
// host's inventory (OS, processes, logins, containers with image, user,
// privileges, mounts, disk use and read-only state, from
// GET /api/v1/hosts/{id}/inventory: "not collected" when the server or the
// host has none), and Settings (tokens and roles, the audit log; the
// notification routes, retention and schedules when the server has them).
import { h, api, qs, route, pagedTable, localTable, when, notCollected, errorBox, clear, kv, state } from './ui.js';

export async function hosts(main, params, cur) {
  main.append(h('h1', {}, 'Hosts'));
  const t = pagedTable({
    name: 'hosts',
    cols: [
      { key: 'host_id', label: 'Host', render: (r) => h('a', { href: route('host', { id: r.host_id }) }, r.host_id) },
      { key: 'version', label: 'Agent' },
      { key: 'last_seen', label: 'Last seen', nowrap: true, value: (r) => when(r.last_seen) },
      { key: 'last_seen_age_seconds', label: 'Age (s)' },
      { key: 'events', label: 'Events' }, { key: 'queue_depth', label: 'Queued' }, { key: 'dropped', label: 'Dropped' },
    ],
    fetchPage: () => api('/api/v1/hosts'),
    onOpen: (r) => { location.hash = route('host', { id: r.host_id }); },
    empty: 'no agent has reported yet',
  });
  cur.keys = t.keys;
  main.append(t);
}

function part(inv, key, title, cols) {
  const rows = inv && Array.isArray(inv[key]) ? inv[key] : null;
  return [h('h2', {}, title), rows ? localTable({ cols, rows, name: key }) : notCollected(title)];
}

export async function host(main, params) {
  const id = params.get('id') || '';
  main.append(h('h1', {}, 'Host ', h('span', { class: 'mono' }, id)));
  main.append(h('p', {}, h('a', { href: '/api/v1/report' + qs({ host: id, format: 'html' }), target: '_blank', rel: 'noopener' }, 'SP 800-190 report of this host'), ' · ',
    h('a', { href: route('runtime', { host: id }) }, 'its alerts'), ' · ',
    h('a', { href: route('findings', { host: id }) }, 'its findings')));
  let inv = null;
  try {
    inv = await api('/api/v1/hosts/' + encodeURIComponent(id) + '/inventory', { noAuthLost: false });
  } catch (e) {
    if (e.status !== 404) main.append(errorBox(e));
  }
  const os = inv && inv.os;
  main.append(h('h2', {}, 'Operating system'), os ? kv(Object.entries(typeof os === 'object' ? os : { os })) : notCollected('Operating system'));
  if (inv && inv.received) main.append(h('p', { class: 'dim' }, 'inventory received ' + when(inv.received)));
  main.append(...part(inv, 'processes', 'Processes', [
    { key: 'pid', label: 'PID', nowrap: true }, { key: 'ppid', label: 'PPID', nowrap: true }, { key: 'user', label: 'User' },
    { key: 'name', label: 'Name' }, { key: 'cmdline', label: 'Command line', render: (r) => h('span', { class: 'mono' }, r.cmdline || '') },
    { key: 'exe', label: 'Executable' }, { key: 'container_id', label: 'Container' }]));
  main.append(...part(inv, 'logins', 'Logins', [
    { key: 'user', label: 'User' }, { key: 'tty', label: 'TTY' }, { key: 'from', label: 'From' },
    { key: 'ts', label: 'When', nowrap: true, value: (r) => (typeof r.ts === 'number' ? when(r.ts) : r.ts) }, { key: 'kind', label: 'Kind' }]));
  main.append(...part(inv, 'containers', 'Containers', [
    { key: 'id', label: 'ID', value: (r) => String(r.id || '').slice(0, 12) }, { key: 'name', label: 'Name' },
    { key: 'image', label: 'Image', render: (r) => (r.image ? h('a', { href: route('image', { name: r.image }) }, r.image) : '') },
    { key: 'user', label: 'User' }, { key: 'privileged', label: 'Privileged', value: (r) => (r.privileged ? 'yes' : 'no') },
    { key: 'read_only', label: 'Read-only root', value: (r) => (r.read_only ? 'yes' : 'no') },
    { key: 'mounts', label: 'Mounts', value: (r) => (r.mounts || []).map((m) => m.source + ' \u2192 ' + m.destination + (m.rw ? ' (rw)' : ' (ro)')).join('; ') },
    { key: 'disk_bytes', label: 'Disk', value: (r) => (r.disk_bytes === undefined || r.disk_bytes === null ? 'not collected' : (r.disk_bytes / 1048576).toFixed(1) + ' MiB') }]));
  main.append(h('h2', {}, 'Scans of this host'), pagedTable({
    name: 'host-scans', cols: [{ key: 'scan_id', label: 'Scan' }, { key: 'kind', label: 'Kind' }, { key: 'target', label: 'Target' },
      { key: 'received', label: 'Received', value: (r) => when(r.received) }, { key: 'findings', label: 'Findings' }],
    fetchPage: (c) => api('/api/v1/scans' + qs({ host: id, after: c, limit: 20 })),
  }));
}

async function optional(main, title, path) {
  main.append(h('h2', {}, title));
  try {
    const v = await api(path, { noAuthLost: true });
    const items = Array.isArray(v.items) ? v.items : Array.isArray(v) ? v : null;
    if (items) {
      const keys = Object.keys(items[0] || { id: 1 });
      main.append(localTable({ name: title.toLowerCase().replace(/ /g, '-'), rows: items, cols: keys.map((k) => ({ key: k, label: k })) }));
    } else main.append(kv(Object.entries(v)));
  } catch (e) {
    main.append(e.status === 404 ? notCollected(title) : errorBox(e));
  }
}

export async function settings(main, params, cur) {
  main.append(h('h1', {}, 'Settings'));
  main.append(h('h2', {}, 'API tokens'));
  const out = h('div', { role: 'status' });
  const name = h('input', { id: 'tok-name', placeholder: 'name', 'aria-label': 'Token name', required: true });
  const role = h('select', { id: 'tok-role', 'aria-label': 'Role' }, ['viewer', 'operator', 'admin', 'ci', 'agent'].map((r) => h('option', { value: r }, r)));
  const hostIn = h('input', { id: 'tok-host', placeholder: 'host id (agent only)', 'aria-label': 'Host id' });
  const form = h('form', { class: 'bar' }, name, role, hostIn, h('button', { type: 'submit', class: 'primary' }, 'Create token'));
  let table;
  const cols = [
    { key: 'id', label: 'ID', render: (r) => h('span', { class: 'mono' }, r.id) }, { key: 'name', label: 'Name' },
    { key: 'role', label: 'Role' }, { key: 'host_id', label: 'Host' },
    { key: 'created', label: 'Created', nowrap: true, value: (r) => when(r.created) },
    { key: 'last_used', label: 'Last used', nowrap: true, value: (r) => when(r.last_used) },
    { key: 'revoked', label: 'Revoked', value: (r) => (r.revoked ? when(r.revoked) : '') },
    { key: 'act', label: '', value: () => '', render: (r) => (r.revoked || r.id === state.session.id ? '' : revokeButton(r)) },
  ];
  function revokeButton(r) {
    const b = h('button', { type: 'button', 'data-revoke': r.id }, 'Revoke');
    let armed = false;
    b.addEventListener('click', async () => {
      if (!armed) { armed = true; b.textContent = 'Confirm revoke'; return; }
      try {
        await api('/api/v1/tokens/' + encodeURIComponent(r.id), { method: 'DELETE' });
        out.textContent = 'token ' + r.id + ' revoked';
        table.reload();
      } catch (e) { clear(out).append(errorBox(e)); }
    });
    return b;
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { name: name.value.trim(), role: role.value };
    if (role.value === 'agent') body.host_id = hostIn.value.trim();
    try {
      const t = await api('/api/v1/tokens', { method: 'POST', body });
      const sec = h('input', { class: 'secret mono', readonly: true, id: 'new-token', 'aria-label': 'New token' });
      sec.value = t.token;
      clear(out).append(h('div', { class: 'panel' }, h('p', {}, 'Token ' + t.id + ' (' + t.role + ') created. Copy it now: it is not shown again.'), sec));
      name.value = '';
      table.reload();
    } catch (e) { clear(out).append(errorBox(e)); }
  });
  table = pagedTable({ name: 'tokens', cols, fetchPage: () => api('/api/v1/tokens') });
  main.append(form, out, table);
  await optional(main, 'Notification routes', '/api/v1/notifications');
  await optional(main, 'Retention', '/api/v1/retention');
  await optional(main, 'Schedules', '/api/v1/schedules');
  main.append(h('h2', {}, 'Audit log'));
  const audit = pagedTable({
    name: 'audit',
    cols: [{ key: 'ts', label: 'When', nowrap: true, value: (r) => when(r.ts) }, { key: 'token_name', label: 'Who' }, { key: 'role', label: 'Role' },
      { key: 'peer', label: 'Peer' }, { key: 'method', label: 'Method' }, { key: 'path', label: 'Path' },
      { key: 'status', label: 'Status' }, { key: 'detail', label: 'Detail' }],
    fetchPage: (c) => api('/api/v1/audit' + qs({ after: c, limit: 50, total: 1 })),
  });
  cur.keys = audit.keys;
  main.append(audit);
}
