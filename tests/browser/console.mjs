// console.mjs - the web console in a real browser: Debian's chromium driven
// by playwright-core (executablePath, no browser download).  Started by
// tests/integration/test_console.py against a real `mamori server` it
// filled with real scans and agent alerts, some of whose names, paths and
// fields are <script> and javascript: payloads.  Logs in, opens every page,
// asserts what each shows, clicks the actions (acknowledge, silence, token
// create, theme, keyboard), proves that no payload ran (window.__mmxss
// stays unset, no dialog opened, no javascript: link) and saves
// screenshots into MM_SHOTS.  Prints PASS/FAIL per step; exit 1 on a FAIL.
import { chromium } from 'playwright-core';
import path from 'node:path';

const E = process.env;
const base = E.MM_BASE;
let failed = 0, passed = 0;
const dialogs = [];

async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log('PASS ' + name);
  } catch (e) {
    failed++;
    console.log('FAIL ' + name + ': ' + (e && e.message ? e.message.split('\n')[0] : e));
  }
}
function ok(c, msg) { if (!c) throw new Error(msg); }

const browser = await chromium.launch({
  executablePath: E.MM_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
const page = await ctx.newPage();
page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
page.on('pageerror', (e) => console.log('page error: ' + e.message));
const shot = (n) => page.screenshot({ path: path.join(E.MM_SHOTS, n + '.png') });
const noXss = async (where) => {
  const v = await page.evaluate(() => window.__mmxss);
  ok(v === undefined, where + ': a payload ran (window.__mmxss = ' + v + ')');
  ok(dialogs.length === 0, where + ': a dialog opened: ' + dialogs.join(' | '));
  const bad = await page.$$eval('a[href]', (as) => as.map((a) => a.getAttribute('href')).filter((h) => !/^(#\/|\/api\/v1\/|\/ui\/|blob:)/.test(h)));
  ok(bad.length === 0, where + ': foreign links ' + bad.join(' '));
};

try {
  await step('login form, no token kept in the browser', async () => {
    await page.goto(base + '/');
    await page.waitForSelector('#token');
    await page.fill('#token', E.MM_ADMIN);
    await page.click('button[type=submit]');
    await page.waitForSelector('nav a[data-page=settings]');
    const cookies = await ctx.cookies();
    const c = cookies.find((x) => x.name === 'mamori_session');
    ok(c && c.httpOnly && c.secure && c.sameSite === 'Strict', 'cookie flags ' + JSON.stringify(c));
    ok(!cookies.some((x) => x.value.includes(E.MM_ADMIN)), 'token in a cookie');
    const stored = await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie);
    ok(!stored.includes(E.MM_ADMIN.slice(-16)), 'token in web storage');
    ok(!stored.includes('mamori_session'), 'session cookie readable by script');
  });

  await step('overview: matrix, severity counts, trend', async () => {
    await page.waitForSelector('table[aria-label=sp800-190-matrix] tbody tr');
    const rows = await page.$$eval('table[aria-label=sp800-190-matrix] tbody tr', (t) => t.length);
    ok(rows === 33, 'matrix rows ' + rows);
    const text = await page.textContent('main');
    ok(text.includes('R07') && text.includes('findings') && text.includes('not covered'), 'states');
    const lines = await page.$$eval('svg.trend polyline', (p) => p.length);
    ok(lines === 5, 'trend lines ' + lines);
    await noXss('overview');
    await shot('overview');
  });

  await step('evidence of a row in at most three clicks', async () => {
    // click 1: the findings of R07 (secrets, 3.1.4)
    const r07 = page.locator('table[aria-label=sp800-190-matrix] tbody tr', { hasText: 'R07' });
    await r07.locator('a', { hasText: 'findings' }).click();
    await page.waitForSelector('table[aria-label=findings] tbody tr td .sev');
    const t = await page.textContent('table[aria-label=findings]');
    ok(t.includes('secret') && t.includes(E.MM_XSS_PATH), 'secret findings with the hostile path as text');
    await noXss('findings');
    // click 2: the image of a finding
    await page.locator('table[aria-label=findings] tbody a').first().click();
    await page.waitForSelector('h1 .mono');
    await noXss('image page');
  });

  // Acceptance (issue 20): as a new user would, from Overview, every covered
  // row's evidence in at most three clicks.  Each walk starts on Overview
  // (no click), counts the clicks it makes and asserts what it reaches.
  await step('acceptance: every covered row\'s evidence within three clicks of Overview', async () => {
    const M = 'table[aria-label=sp800-190-matrix] tbody tr';
    let clicks = 0;
    const click = async (loc) => { await loc.click(); clicks++; };
    const start = async () => {
      clicks = 0;
      await page.goto(base + '/#/overview');
      await page.waitForSelector(M);
    };
    const rowLink = (id, text) => page.locator(M, { has: page.locator('td:first-child', { hasText: new RegExp('^' + id + '$') }) }).locator('a', { hasText: text });
    // findings behind the row (its section): every one listed carries it
    const viaFindings = async (r) => {
      await start();
      await click(rowLink(r.id, 'findings'));
      await page.waitForSelector('table[aria-label=findings] tbody tr td');
      const secs = await page.$$eval('table[aria-label=findings] tbody tr', (t) => t.map((x) => (x.cells[3] || {}).textContent));
      if (r.findings > 0) {
        ok(secs.length > 0 && secs.every((x) => x === r.section), r.id + ': findings of ' + r.section + ': ' + secs.slice(0, 5));
        return 'findings of ' + r.section;
      }
      // passing: what was looked at, on Overview itself; the section's
      // findings (other rows' checks) one click away
      ok(/\S/.test(r.evidence) && secs.every((x) => x === undefined || x === r.section), r.id + ': evidence ' + r.evidence);
      return 'what was checked (Overview) and the findings of ' + r.section;
    };
    // the first image of the Images page: its OS line
    const viaImageOs = async (r) => {
      await start();
      await click(rowLink(r.id, 'images'));
      await page.waitForSelector('table[aria-label=images] tbody tr a');
      const name = E.MM_SIGNED || 'registry.example.com/shop/app:1.0';
      await click(page.locator('table[aria-label=images] tbody a', { hasText: name }).first());
      await page.waitForSelector('#signature, #trust-box h3');
      const os = await page.textContent('#image-os');
      if (E.MM_SIGNED) ok(os === 'alpine 3.19.1', r.id + ': OS ' + os);
      else ok(os !== '-', r.id + ': OS ' + os);
      // the database the scan matched against, and its age at the scan
      const db = await page.textContent('#image-db');
      if (E.MM_SIGNED) ok(/^built \d{4}-\d\d-\d\d, 0 days old$/.test(db), r.id + ': DB ' + db);
      else ok(db !== '-', r.id + ': DB ' + db);
      return 'OS of ' + name;
    };
    // the registries seen, with their checks and schedules
    const viaRegistries = async (r) => {
      await start();
      await click(rowLink(r.id, 'registries'));
      await page.waitForSelector('table[aria-label=registries] tbody tr td .mono');
      await page.waitForSelector('main h2 >> text=Registry security checks');
      const t = await page.textContent('main');
      if (r.id === 'R13' || r.id === 'R11') ok(/\d+ failed, \d+ passed/.test(t) && (await page.$$('table[aria-label=registry-checks] tbody tr')).length > 0, r.id + ': registry checks');
      if (r.id === 'R08') ok((await page.$$('table[aria-label=registries] tbody tr')).length > 0, r.id + ': registries');
      return 'the Registries page';
    };
    // signatures: a verified image (passing) or the MM-SIG-001 finding's image (findings)
    const viaSignature = async (r) => {
      await start();
      if (r.findings > 0) {
        await click(rowLink(r.id, 'findings'));
        await page.waitForSelector('table[aria-label=findings] tbody tr td');
        await click(page.locator('table[aria-label=findings] tbody tr', { hasText: 'MM-SIG-001' }).locator('a').first());
        await page.waitForSelector('#signature');
        ok((await page.textContent('#signature')).includes('not verified'), r.id + ': not verified');
        return 'the unsigned image\'s signature';
      }
      await click(rowLink(r.id, 'images'));
      await page.waitForSelector('table[aria-label=images] tbody tr a');
      await click(page.locator('table[aria-label=images] tbody a', { hasText: E.MM_SIGNED }).first());
      await page.waitForSelector('#signature');
      ok(/Signature\s*verified/.test(await page.textContent('#signature')), r.id + ': verified');
      return 'the signed image\'s signature';
    };
    // every finding under its section: the fleet report (a new tab)
    const viaReport = async (r) => {
      await start();
      const [tab] = await Promise.all([ctx.waitForEvent('page'), click(rowLink(r.id, 'report'))]);
      await tab.waitForLoadState();
      const t = await tab.textContent('body');
      ok(t.includes('R33') && t.includes('3.1.4') && t.includes('Use of untrusted images'), r.id + ': the report by section');
      await tab.close();
      return 'the fleet report';
    };
    const WALK = { R03: viaImageOs, R08: viaRegistries, R10: viaSignature, R11: viaRegistries, R13: viaRegistries };
    await start();
    const rows = await page.$$eval(M, (t) => t.map((x) => ({ id: x.cells[0].textContent, section: x.cells[1].textContent,
      state: x.cells[3].textContent, findings: Number(x.cells[4].textContent), evidence: x.cells[5].textContent, links: [...x.cells[6].querySelectorAll('a')].map((a) => a.textContent) })));
    const covered = rows.filter((r) => r.state !== 'not covered');
    ok(covered.length >= (E.MM_SIGNED ? 8 : 6), 'covered rows: ' + covered.map((r) => r.id));
    if (E.MM_SIGNED) ok(covered.some((r) => r.id === 'R10'), 'R10 covered by the signature checks');
    for (const r of covered) {
      let walk = WALK[r.id];
      if (!walk && r.links.includes('findings') && (r.findings > 0 || r.section !== 'ops')) walk = viaFindings;
      if (!walk && r.id === 'R33') walk = viaReport;
      ok(walk, r.id + ' (' + r.state + '): no way to its evidence from Overview');
      const what = await walk(r);
      ok(clicks <= 3, r.id + ': ' + clicks + ' clicks');
      console.log('acceptance: ' + r.id + ' ' + r.state + ' -> ' + what + ' in ' + clicks + ' click' + (clicks === 1 ? '' : 's'));
      await noXss('acceptance ' + r.id);
    }
    await page.goto(base + '/#/overview');
    await page.waitForSelector(M);
  });

  await step('images: hostile name shown as text, findings by kind', async () => {
    await page.goto(base + '/#/images');
    await page.waitForSelector('table[aria-label=images] tbody tr a');
    const names = await page.$$eval('table[aria-label=images] tbody tr td:first-child', (t) => t.map((x) => x.textContent));
    ok(names.includes(E.MM_XSS_IMG), 'the <script> name as text: ' + JSON.stringify(names));
    ok(names.includes('registry.example.com/shop/app:1.0'), 'app image');
    await shot('images');
    await page.locator('table[aria-label=images] a', { hasText: 'registry.example.com/shop/app:1.0' }).click();
    await page.waitForSelector('table[aria-label=findings] tbody tr td .sev');
    const info = await page.textContent('table[aria-label=findings]');
    ok(info.includes('openssl@3.0.'), 'packages');
    const pinfo = await page.textContent('.paged .bar span');
    ok(/of 120/.test(pinfo), 'server-side total: ' + pinfo);
    await page.click('.paged >> nth=0 >> text=Next');
    await page.waitForFunction(() => /page 2/.test(document.querySelector('.paged .bar span').textContent));
    await page.click('#load-fixed');
    await page.waitForSelector('table[aria-label=fixed-versions] tbody tr td');
    const fx = await page.textContent('table[aria-label=fixed-versions]');
    ok(/upgrade openssl to 3\.0\.\d+/.test(fx), 'fixed versions shown');
    // signature and trust: 1.0's report carries a verification, 1.1's none
    await page.waitForSelector('#trust-box h3');
    const sig = await page.textContent('#signature');
    ok(sig.includes('verified') && sig.includes('ecdsa-p256 sha256:cc42') && sig.includes('sha256:2b62aa'), 'signature: ' + sig);
    await page.locator('#signature').scrollIntoViewIfNeeded();
    await shot('image-signature');
    await page.selectOption('#diff-other', 'registry.example.com/shop/app:1.1');
    await page.click('#diff-go');
    await page.waitForSelector('table[aria-label=only-there] tbody tr td');
    const diff = await page.textContent('#diff-box');
    ok(diff.includes('60 only in registry.example.com/shop/app:1.0') &&
       diff.includes('30 only in registry.example.com/shop/app:1.1'), 'version diff: ' + diff.slice(0, 200));
    await noXss('images');
    await page.goto(base + '/#/image?name=' + encodeURIComponent('registry.example.com/shop/app:1.1'));
    await page.waitForSelector('#trust-box h3');
    const nc = await page.textContent('#trust-box');
    ok(/Signature verification \(the scan report carries none\): not collected/.test(nc), 'no signature: ' + nc.slice(0, 200));
    await page.goto(base + '/#/image?name=' + encodeURIComponent('registry.example.com/shop/app:1.0'));
    await page.waitForSelector('table[aria-label=findings] tbody tr td .sev');
  });

  await step('export CSV and JSON of a table', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('.paged >> nth=0 >> text=Export CSV')]);
    const p = await dl.path();
    const fs = await import('node:fs');
    const csv = fs.readFileSync(p, 'utf8');
    ok(csv.split('\r\n').length >= 121 && csv.startsWith('Severity,ID'), 'CSV rows');
    const [dj] = await Promise.all([page.waitForEvent('download'), page.click('.paged >> nth=0 >> text=Export JSON')]);
    const j = JSON.parse(fs.readFileSync(await dj.path(), 'utf8'));
    ok(j.length === 120, 'JSON rows ' + j.length);
  });

  await step('signature and trust of real scans (mamori image --verify-key)', async () => {
    if (!E.MM_SIGNED) { console.log('signatures: no real signed image (docker-registry, skopeo or openssl missing)'); return; }
    await page.goto(base + '/#/image?name=' + encodeURIComponent(E.MM_SIGNED));
    await page.waitForSelector('#signature');
    const sig = await page.textContent('#signature');
    ok(/Signature\s*verified/.test(sig) && !sig.includes('not verified') && sig.includes('ecdsa-p256 sha256:'), 'signed: ' + sig);
    ok(/valid/.test(sig) && !/invalid/.test(sig), 'one valid signature layer: ' + sig);
    await page.waitForFunction(() => /alpine 3\.19\.1/.test(document.querySelector('#image-os').textContent));
    await page.locator('#signature').scrollIntoViewIfNeeded();
    await shot('image-signature-verified');
    await page.goto(base + '/#/image?name=' + encodeURIComponent(E.MM_UNSIGNED));
    await page.waitForSelector('#signature');
    await page.waitForSelector('table[aria-label=trust] tbody tr');
    const us = await page.textContent('#signature');
    ok(us.includes('not verified (no signature)'), 'unsigned: ' + us);
    const tf = await page.textContent('table[aria-label=trust]');
    ok(tf.includes('MM-SIG-001') && tf.includes('3.1.5'), 'the finding under 3.1.5: ' + tf);
    await page.locator('#trust-box').scrollIntoViewIfNeeded();
    await shot('image-signature-not-verified');
    await noXss('signatures');
  });

  await step('registries', async () => {
    await page.goto(base + '/#/registries');
    await page.waitForSelector('table[aria-label=registries] tbody tr');
    await page.waitForSelector('main h2 >> text=Registry security checks');
    const t = await page.textContent('main');
    ok(t.includes('registry.example.com') && t.includes('not collected'), 'registries page');
    // the hostile registry name and check fields, as text
    const heads = await page.$$eval('main h3', (x) => x.map((e) => e.textContent));
    ok(heads.includes(E.MM_XSS_REG), 'hostile registry name as text: ' + JSON.stringify(heads));
    ok(t.includes(E.MM_XSS_RULE) && t.includes(E.MM_XSS_PATH), 'hostile check fields as text');
    if (E.MM_REG) {
      ok(heads.includes(E.MM_REG), 'the real check: ' + JSON.stringify(heads));
      const rows = await page.$$eval('main tr', (x) => x.map((e) => e.textContent));
      ok(rows.some((r) => r.includes('anonymous-pull') && r.includes('fail')), 'anonymous pull failed');
      ok(rows.some((r) => r.includes(E.MM_REG) && r.includes('rescan-open every 86400 s') && /\d+ failed, \d+ passed/.test(r)), 'schedule and summary in the registries table');
      ok(rows.some((r) => r.includes('rescan-open') && r.includes(E.MM_REG)), 'schedule table');
      // issue 20: the server's own registry-check schedule and its last result
      ok(rows.some((r) => r.includes(E.MM_REG) && r.includes('check-open every 86400 s (last ok)')), 'check schedule in the registries table');
      ok(rows.some((r) => r.includes('check-open') && r.includes('registry-check') && r.includes('ok')), 'check schedule in the schedule table');
      const para = await page.$$eval('main p', (x) => x.map((e) => e.textContent));
      ok(para.some((p) => p.includes('scheduled: check-open every 86400 s (last ok)')), 'the latest check names its schedule');
    } else console.log('registries: no real check (docker-registry missing)');
    await noXss('registries');
    await shot('registries');
  });

  await step('runtime: alert fields, acknowledge, silence, live stream', async () => {
    await page.goto(base + '/#/runtime');
    await page.waitForSelector('table[aria-label=alerts] tbody tr[tabindex]');
    await page.locator('table[aria-label=alerts] tbody tr[tabindex]').first().click();
    await page.waitForSelector('#alert-detail h2');
    const d = await page.textContent('#alert-detail');
    ok(d.includes(E.MM_XSS_RULE), 'rule name as text');
    ok(d.includes('proc.name') && d.includes('<script>window.__mmxss=5</script>'), 'fields as text');
    await page.click('#ack');
    await page.waitForFunction(() => document.querySelector('#alert-detail [role=status]').textContent === 'acknowledged');
    await page.click('#silence');
    await page.click('#silence');
    await page.waitForFunction(() => /silenced until/.test(document.querySelector('#alert-detail [role=status]').textContent));
    // a new alert arrives while the page is open (the agent's endpoint)
    const r = await ctx.request.post(base + '/api/v1/events', {
      headers: { Authorization: 'Bearer ' + E.MM_AGENT },
      data: { host_id: 'node-1', events: [{ id: 'live-1', rule: 'Live <b>alert</b>', priority: 'Critical', output: 'javascript:alert(1)', time: new Date().toISOString() }] },
    });
    const t0 = Date.now();
    ok(r.status() === 200 || r.status() === 201, 'event post ' + r.status());
    await page.waitForFunction(() => /Live <b>alert<\/b>/.test(document.querySelector('table[aria-label="live alerts"] tbody').textContent), null, { timeout: 15000 });
    console.log('runtime: live alert drawn ' + (Date.now() - t0) + ' ms after its post returned');
    await noXss('runtime');
    await shot('runtime');
  });

  // issue 20a: profiles (content, drift, enforce with a confirmation) and captures
  await step('runtime profiles: content, drift, enforce with confirmation, captures', async () => {
    ok(E.MM_PROFILE_ID, 'no profile id from the test');
    // a deviation alert of that host and image, as the agent sends it
    const r = await ctx.request.post(base + '/api/v1/events', {
      headers: { Authorization: 'Bearer ' + E.MM_ADMIN },
      data: { host_id: 'node-p', events: [{ id: 'drift-1', rule: 'Profile deviation: unexpected process', priority: 'Warning',
        output: 'Unexpected process ' + E.MM_XSS_PATH, time: new Date().toISOString(),
        output_fields: { 'profile.image': E.MM_XSS_IMG, 'profile.deviation': E.MM_XSS_PATH, 'profile.category': 'process', 'proc.name': '<script>window.__mmxss=8</script>' } }] },
    });
    ok(r.status() === 200, 'drift event post ' + r.status());
    await page.goto(base + '/#/runtime');
    await page.click('#runtime-tabs >> text=Profiles and drift');
    await page.waitForSelector('table[aria-label=profiles] tbody tr a');
    const lt = await page.textContent('table[aria-label=profiles]');
    ok(lt.includes(E.MM_XSS_IMG) && lt.includes('node-p') && lt.includes('learned'), 'list: ' + lt.slice(0, 200));
    await page.locator('table[aria-label=profiles] tbody a').first().click();
    await page.waitForSelector('table[aria-label=profile-processes] tbody tr');
    ok(page.url().includes('#/profile?id=' + E.MM_PROFILE_ID), 'permalink ' + page.url());
    const procs = await page.textContent('table[aria-label=profile-processes]');
    ok(procs.includes('<script>window.__mmxss=5</script>') && procs.includes(E.MM_XSS_PATH), 'process name and exe as text');
    ok((await page.textContent('table[aria-label=profile-files]')).includes(E.MM_XSS_RULE), 'file path as text');
    ok((await page.textContent('table[aria-label=profile-listen]')).includes('8080'), 'listen');
    ok((await page.textContent('table[aria-label=profile-connect]')).includes('10.0.0.7'), 'connect');
    await page.waitForSelector('table[aria-label=drift] tbody tr');
    ok((await page.textContent('table[aria-label=drift]')).includes(E.MM_XSS_PATH), 'drift alert listed');
    await noXss('profile');
    // enforce: the first click only asks
    await page.click('#enforce');
    await page.waitForSelector('#enforce-confirm:not([hidden])');
    ok((await page.textContent('#profile-state')) === 'learned', 'not enforced before the confirmation');
    ok(/Enforce this profile on host node-p/.test(await page.textContent('#enforce-msg')), 'confirmation text');
    await page.click('#enforce-confirm');
    await page.waitForFunction(() => document.querySelector('#profile-state').textContent === 'enforced');
    ok(/enforced by root/.test(await page.textContent('#enforce-msg')), 'result: ' + await page.textContent('#enforce-msg'));
    await shot('runtime-profile');
    ok(await page.isVisible('#unenforce'), 'stop-enforcing button once enforced');
    // the server agrees, and wrote the audit line
    const a = await page.evaluate(async () => (await fetch('/api/v1/audit?limit=1000')).json());
    ok(a.items.some((x) => x.path.endsWith('/enforce') && x.status === 200 && (x.detail || '').includes('enforced profile')), 'audit line');
    await page.click('#runtime-tabs >> text=Captures');
    await page.waitForSelector('table[aria-label=captures] tbody tr');
    ok((await page.textContent('table[aria-label=captures]')).includes(E.MM_XSS_PATH), 'capture file as text');
    const dl = await page.getAttribute('table[aria-label=captures] a[download]', 'href');
    ok(/^\/api\/v1\/captures\/\d+\/file$/.test(dl), 'download link ' + dl);
    const n = await page.evaluate(async (u) => (await (await fetch(u)).arrayBuffer()).byteLength, dl);
    ok(n === 4096, 'downloaded ' + n + ' bytes');
    await noXss('captures');
    await shot('runtime-captures');
  });

  await step('hosts: list, inventory "not collected" without the endpoint', async () => {
    await page.goto(base + '/#/hosts');
    await page.waitForSelector('table[aria-label=hosts] tbody tr a');
    await page.locator('table[aria-label=hosts] tbody a', { hasText: 'node-1' }).click();
    await page.waitForSelector('h1 .mono');
    await page.waitForSelector('table[aria-label=host-scans] tbody tr');
    const t = await page.textContent('main');
    ok(t.includes('Processes: not collected') || t.includes('PID'), 'processes part');
    ok(t.includes('Containers: not collected') || t.includes('Read-only root'), 'containers part');
    await noXss('host');
  });

  await step('settings: create a token, audit log', async () => {
    await page.goto(base + '/#/settings');
    await page.waitForSelector('table[aria-label=tokens] tbody tr');
    await page.fill('#tok-name', 'from-console');
    await page.selectOption('#tok-role', 'viewer');
    await page.click('text=Create token');
    await page.waitForSelector('#new-token');
    const v = await page.inputValue('#new-token');
    ok(/^mmt_[0-9a-f]+_[0-9a-f]+$/.test(v), 'token shown once');
    await page.waitForFunction(() => /from-console/.test(document.querySelector('table[aria-label=tokens]').textContent));
    const t = await page.textContent('main');
    ok(t.includes('Notification routes') && t.includes('Audit log'), 'sections');
    await shot('settings');
    await noXss('settings');
  });

  await step('keyboard and themes', async () => {
    await page.goto(base + '/#/overview');
    await page.waitForSelector('table[aria-label=sp800-190-matrix] tbody tr');
    await page.keyboard.press('2');
    await page.waitForFunction(() => location.hash === '#/images');
    await page.keyboard.press('t');
    const th = await page.evaluate(() => document.documentElement.getAttribute('data-theme'));
    ok(th === 'light', 'light theme');
    await page.keyboard.press('1');
    await page.waitForSelector('table[aria-label=sp800-190-matrix] tbody tr');
    await shot('overview-light');
    await page.keyboard.press('t');
    await page.keyboard.press('2');
    await page.waitForSelector('table[aria-label=images] tbody tr[tabindex]');
    await page.focus('table[aria-label=images] tbody tr[tabindex]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash.startsWith('#/image?'));
    await page.goto(base + '/#/constructor');   // no route from Object's prototype
    await page.waitForSelector('text=Not found');
  });

  await step('a viewer sees no Settings', async () => {
    const c2 = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const p2 = await c2.newPage();
    p2.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
    await p2.goto(base + '/');
    await p2.fill('#token', E.MM_VIEWER);
    await p2.click('button[type=submit]');
    await p2.waitForSelector('nav a[data-page=overview]');
    ok(await p2.$('nav a[data-page=settings]') === null, 'settings link for a viewer');
    await p2.goto(base + '/#/settings');
    await p2.waitForSelector('text=Not found');
    await p2.goto(base + '/#/runtime');
    await p2.waitForSelector('table[aria-label=alerts] tbody tr[tabindex]');
    await p2.locator('table[aria-label=alerts] tbody tr[tabindex]').first().click();
    await p2.waitForSelector('#alert-detail h2');
    ok(await p2.$('#ack') === null, 'no acknowledge for a viewer');
    if (E.MM_PROFILE_ID) {   // issue 20a: no enforce button for a viewer
      await p2.goto(base + '/#/profile?id=' + E.MM_PROFILE_ID);
      await p2.waitForSelector('table[aria-label=profile-processes] tbody tr');
      ok(await p2.$('#enforce') === null, 'no enforce for a viewer');
    }
    await c2.close();
  });

  await step('log out', async () => {
    await page.click('#logout');
    await page.waitForSelector('#token');
    const r = await page.evaluate(async () => (await fetch('/api/v1/hosts')).status);
    ok(r === 401, 'API after logout: ' + r);
    await noXss('end');
  });
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
