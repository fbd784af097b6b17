// The public map: recent reports from the feed, coloured by status, filtered by category,
// status and date; the same reports as a list (the screen-reader and keyboard alternative).
import { api, query } from './api.js';
import { formatTime, statusName, t } from './i18n.js';
import { createMap, STATUS_COLOURS, statusMarker } from './map.js';

const $ = (id) => document.getElementById(id);
const STATUSES = Object.keys(STATUS_COLOURS);
let map = null;
let layer = null;
let cursor = null;
let shown = 0;

export async function init() {
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    load(false);
  });
  $('more').addEventListener('click', () => load(true));
}

export async function enter() {
  await fillFilters();
  if (!map) {
    map = await createMap($('public-map'), {
      onNotice: (text) => {
        $('map-notice').textContent = text;
        $('map-notice').hidden = false;
      },
    });
    layer = window.L.layerGroup().addTo(map);
  }
  setTimeout(() => map.invalidateSize(), 0);
  legend();
  await load(false);
}

export function relabel() {
  if (map) map.refreshLabels();
}

async function fillFilters() {
  const cat = $('m-category');
  const keep = cat.value;
  const cats = (await api('/api/v1/categories')).items;
  cat.replaceChildren(new Option(t('all'), ''));
  for (const c of cats) cat.add(new Option(c.name, c.code));
  cat.value = keep;
  const st = $('m-status');
  const keepStatus = st.value;
  st.replaceChildren(new Option(t('all'), ''));
  for (const s of STATUSES) st.add(new Option(statusName(s), s));
  st.value = keepStatus;
}

function legend() {
  const ul = $('legend');
  ul.replaceChildren();
  for (const s of STATUSES) {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = `swatch status-${s}`;
    sw.setAttribute('aria-hidden', 'true');
    li.append(sw, statusName(s));
    ul.append(li);
  }
}

function dayStart(value, plusDays = 0) {
  if (!value) return '';
  const d = new Date(`${value}T00:00:00`);
  d.setDate(d.getDate() + plusDays);
  return d.toISOString();
}

async function load(more) {
  if (!more) {
    cursor = null;
    shown = 0;
    layer.clearLayers();
    $('report-list').replaceChildren();
  }
  const params = {
    category: $('m-category').value,
    status: $('m-status').value,
    created_from: dayStart($('m-from').value),
    created_to: dayStart($('m-to').value, 1),
    limit: 100,
    cursor: more ? cursor : '',
  };
  const page = await api(`/api/v1/reports?${query(params)}`);
  for (const r of page.items) add(r);
  shown += page.items.length;
  cursor = page.next_cursor;
  $('more').hidden = !cursor;
  $('list-count').textContent = `(${t('listCount', { n: shown })})`;
  if (!shown) {
    const li = document.createElement('li');
    li.textContent = t('noReports');
    $('report-list').append(li);
  }
  document.getElementById('view-map').dataset.loaded = String(shown);
}

function popup(r) {
  const box = document.createElement('div');
  const title = document.createElement('strong');
  title.textContent = r.category_name;
  const status = document.createElement('p');
  status.textContent = `${statusName(r.status)} · ${formatTime(r.created_at)}`;
  const text = document.createElement('p');
  text.textContent = r.description.slice(0, 160);
  const link = document.createElement('a');
  link.href = `#/report/${encodeURIComponent(r.id)}`;
  link.textContent = t('view');
  box.append(title, status, text, link);
  return box;
}

function add(r) {
  const m = statusMarker(r.lat, r.lon, r.status).bindPopup(() => popup(r));
  m.options.reportId = r.id;
  layer.addLayer(m);
  const li = document.createElement('li');
  li.dataset.reportId = r.id;
  li.dataset.status = r.status;
  const badge = document.createElement('span');
  badge.className = `badge status-${r.status}`;
  badge.textContent = statusName(r.status);
  const link = document.createElement('a');
  link.href = `#/report/${encodeURIComponent(r.id)}`;
  link.textContent = r.category_name;
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = `${formatTime(r.created_at)}${r.agency_name ? ` · ${r.agency_name}` : ''}`;
  const text = document.createElement('p');
  text.textContent = r.description.slice(0, 200);
  li.append(link, ' ', badge, ' ', meta, text);
  $('report-list').append(li);
}

export function leave() {}
