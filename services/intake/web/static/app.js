// The resident app: hash routes `#/` (report), `#/map`, `#/report/<id>[?token=...]`.
// The tracking token only ever lives in the fragment, which browsers never send to servers.
import { loadConfig } from './api.js';
import { getLang, onLang, setLang, translate } from './i18n.js';
import * as report from './report.js';
import * as publicMap from './publicmap.js';
import * as tracking from './track.js';

const VIEWS = { new: report, map: publicMap, report: tracking };
let current = null;

function parse() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, qs] = hash.split('?');
  const params = new URLSearchParams(qs || '');
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'map') return { view: 'map', params };
  if ((parts[0] === 'report' || parts[0] === 'track') && parts[1]) {
    return { view: 'report', id: decodeURIComponent(parts[1]), params };
  }
  return { view: 'new', params };
}

async function route() {
  const r = parse();
  if (current && current !== VIEWS[r.view]) current.leave?.();
  document.querySelectorAll('.view').forEach((v) => (v.hidden = v.id !== `view-${r.view}`));
  document.querySelectorAll('[data-nav]').forEach((a) => {
    if (a.dataset.nav === r.view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  current = VIEWS[r.view];
  await current.enter(r);
  const h1 = document.querySelector(`#view-${r.view} h1`);
  document.title = `${h1.textContent.trim()} — ${document.querySelector('.brand').textContent}`;
}

function showLang() {
  document.querySelectorAll('[data-lang]').forEach((b) => {
    b.setAttribute('aria-pressed', String(b.dataset.lang === getLang()));
  });
  translate();
}

async function main() {
  await loadConfig();
  showLang();
  document.querySelectorAll('[data-lang]').forEach((b) =>
    b.addEventListener('click', () => setLang(b.dataset.lang)),
  );
  onLang(() => {
    showLang();
    Object.values(VIEWS).forEach((v) => v.relabel?.());
    route();
  });
  await Promise.all(Object.values(VIEWS).map((v) => v.init()));
  window.addEventListener('hashchange', async () => {
    await route();
    document.getElementById('main').focus({ preventScroll: false });
  });
  await route();
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  document.body.dataset.ready = 'error';
  throw e;
});
