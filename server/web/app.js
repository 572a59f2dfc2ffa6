// app.js - the console's shell: logging in (the API token goes to the
// server once, in the body of POST /api/v1/session; the browser keeps only
// the server's HttpOnly session cookie, and the CSRF token in memory), the
// navigation (each page a permalink: #/page?filters), keyboard shortcuts
// and the theme.
import { h, api, clear, state, errorBox } from './ui.js';
import { overview, images, image, findings, registries } from './pages.js';
import { runtime } from './runtime.js';
import { hosts, host, settings } from './hosts.js';
import { profiles, profile, captures } from './profiles.js';   // issue 20a

const PAGES = [
  { id: 'overview', label: 'Overview', render: overview },
  { id: 'images', label: 'Images', render: images },
  { id: 'registries', label: 'Registries', render: registries },
  { id: 'runtime', label: 'Runtime', render: runtime },
  { id: 'hosts', label: 'Hosts', render: hosts },
  { id: 'settings', label: 'Settings', render: settings, admin: true },
];
const HIDDEN = { image, findings, host, profiles, profile, captures };

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let current = null;

function theme(t) {
  document.documentElement.setAttribute('data-theme', t);
  try { localStorage.setItem('mamori-theme', t); } catch (e) { /* private mode */ }
}
try { theme(localStorage.getItem('mamori-theme') || 'dark'); } catch (e) { theme('dark'); }
document.getElementById('theme').addEventListener('click', () =>
  theme(document.documentElement.getAttribute('data-theme') === 'dark' ? 'light' : 'dark'));

function visible() {
  return PAGES.filter((p) => !p.admin || (state.session && state.session.role === 'admin'));
}

function showNav() {
  clear(nav);
  visible().forEach((p, i) => nav.appendChild(h('a', { href: '#/' + p.id, 'data-page': p.id }, p.label, h('kbd', {}, String(i + 1)))));
  nav.hidden = false;
  document.getElementById('who').textContent = state.session.name + ' (' + state.session.role + ')';
  document.getElementById('logout').hidden = false;
}

function loginForm(msg) {
  nav.hidden = true;
  document.getElementById('logout').hidden = true;
  document.getElementById('who').textContent = '';
  const tok = h('input', { type: 'password', id: 'token', autocomplete: 'off', 'aria-label': 'API token', placeholder: 'mmt_...' });
  const out = h('div', { role: 'status' }, msg ? errorBox(msg) : null);
  const form = h('form', { class: 'panel login' },
    h('h1', {}, 'Log in to mamori'),
    h('p', { class: 'dim' }, 'Paste an API token (admin, operator or viewer). It is sent once; the server then keeps a session.'),
    tok, h('button', { type: 'submit', class: 'primary' }, 'Log in'), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = tok.value;
    tok.value = '';
    try {
      state.session = await api('/api/v1/session', { method: 'POST', body: { token: t }, noAuthLost: true });
      start();
    } catch (e) {
      clear(out).appendChild(errorBox(e));
    }
  });
  clear(main).appendChild(form);
  tok.focus();
}

function parseHash() {
  const m = /^#\/([a-z]+)(?:\?(.*))?$/.exec(location.hash);
  if (!m) return { page: 'overview', params: new URLSearchParams() };
  return { page: m[1], params: new URLSearchParams(m[2] || '') };
}

async function render() {
  if (!state.session) return;
  const { page, params } = parseHash();
  const p = PAGES.find((x) => x.id === page);
  const fn = p ? p.render : Object.prototype.hasOwnProperty.call(HIDDEN, page) ? HIDDEN[page] : null;
  for (const a of nav.querySelectorAll('a')) {
    // issue 20a: the profiles and captures views are part of Runtime
    if (a.dataset.page === page || (a.dataset.page === 'runtime' && ['profiles', 'profile', 'captures'].includes(page))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (current && current.stop) current.stop();
  clear(main);
  if (!fn || (p && p.admin && state.session.role !== 'admin')) {
    main.appendChild(h('h1', { tabindex: '-1' }, 'Not found'));
    main.appendChild(h('p', {}, 'No such page for your role.'));
    return;
  }
  current = { stop: null, keys: null };
  try {
    await fn(main, params, current);
  } catch (e) {
    main.appendChild(errorBox(e));
  }
  const h1 = main.querySelector('h1');
  if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus(); }
}

function start() {
  showNav();
  if (!location.hash) location.hash = '#/overview';
  else render();
}

window.addEventListener('hashchange', render);
document.getElementById('skip').addEventListener('click', () => main.focus());
document.addEventListener('keydown', (ev) => {
  if (!state.session || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const t = ev.target.tagName;
  if (t === 'INPUT' || t === 'SELECT' || t === 'TEXTAREA') return;
  const n = Number(ev.key);
  const v = visible();
  if (n >= 1 && n <= v.length) { location.hash = '#/' + v[n - 1].id; return; }
  if (ev.key === 't') { document.getElementById('theme').click(); return; }
  if (ev.key === '/') { const f = main.querySelector('input'); if (f) { ev.preventDefault(); f.focus(); } return; }
  if (current && current.keys) current.keys(ev.key);
});

document.getElementById('logout').addEventListener('click', async () => {
  try { await api('/api/v1/session', { method: 'DELETE', noAuthLost: true }); } catch (e) { /* gone already */ }
  state.session = null;
  if (current && current.stop) current.stop();
  loginForm();
});

state.onAuthLost = () => {
  state.session = null;
  if (current && current.stop) current.stop();
  loginForm('Your session ended; log in again.');
};

(async () => {
  try {
    state.session = await api('/api/v1/session', { noAuthLost: true });
    start();
  } catch (e) {
    loginForm();
  }
})();
