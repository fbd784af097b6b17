// A report's public view; with the tracking token (from the URL fragment, sent only in the
// X-Tracking-Token header) also its timeline, rating and reopening. The status follows notify's
// Server-Sent Events stream live, without a reload.
import { api, ApiError, cfg } from './api.js';
import { formatTime, statusName, t } from './i18n.js';
import { createMap, STATUS_COLOURS, statusMarker } from './map.js';

const $ = (id) => document.getElementById(id);
let state = { id: null, token: null, view: null };
let stream = null;
let retry = null;
let map = null;
let marker = null;
let stars = 0;

export async function init() {
  $('rate-form').addEventListener('submit', rate);
  $('reopen-form').addEventListener('submit', reopen);
  const box = $('stars');
  for (let n = 1; n <= 5; n += 1) {
    const label = document.createElement('label');
    label.className = 'star';
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'rating';
    input.value = String(n);
    input.id = `star-${n}`;
    input.addEventListener('change', () => (stars = n));
    const text = document.createElement('span');
    text.dataset.n = String(n);
    label.append(input, text);
    box.append(label);
  }
}

function labelStars() {
  document.querySelectorAll('#stars span[data-n]').forEach((s) => {
    s.textContent = t('stars', { n: s.dataset.n });
  });
}

export async function enter(r) {
  leave();
  state = { id: r.id, token: r.params.get('token'), view: null };
  $('report-error').textContent = '';
  $('report-body').hidden = true;
  $('rated').hidden = true;
  labelStars();
  try {
    await refresh();
  } catch (e) {
    $('report-error').textContent = e instanceof ApiError && e.status === 404 ? t('notFound') : t('errorNetwork');
    return;
  }
  $('report-body').hidden = false;
  await showMap();
  listen();
}

export function relabel() {
  if (map) map.refreshLabels();
}

export function leave() {
  clearTimeout(retry);
  clearTimeout(syncTimer);
  latest = null;
  if (stream) stream.close();
  stream = null;
}

async function refresh() {
  const path = `/api/v1/reports/${encodeURIComponent(state.id)}`;
  let timeline = null;
  if (state.token) {
    try {
      timeline = await api(`${path}/timeline`, { token: state.token });
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 403)) throw e;
      $('report-error').textContent = t('badToken');
      state.token = null;
    }
  }
  const view = timeline ? timeline.report : await api(path);
  state.view = view;
  render(view);
  renderTimeline(timeline);
}

function text(id, value) {
  $(id).textContent = value || '—';
}

function render(v) {
  text('r-category', v.category_name);
  setStatus(v.status);
  $('r-overdue').hidden = !v.overdue;
  text('r-description', v.description);
  text('r-created', formatTime(v.created_at));
  text('r-updated', formatTime(v.updated_at));
  text('r-agency', v.agency_name);
  // The server writes the due time on the city's clock in the page's language (Accept-Language).
  text('r-expected', v.expected_at_text || (v.expected_at ? formatTime(v.expected_at) : ''));
  text('r-notes', v.status_notes);
  text('r-address', v.address);
  text('r-coords', `${v.lat.toFixed(5)}, ${v.lon.toFixed(5)}`);
  text('r-supporters', String(v.supporters));
  const photos = $('r-photos');
  photos.replaceChildren();
  v.photos.forEach((p, i) => {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = p.url;
    const img = document.createElement('img');
    img.src = p.thumb_url;
    img.alt = `${v.category_name} — ${i + 1}`;
    a.append(img);
    li.append(a);
    photos.append(li);
  });
}

function setStatus(status) {
  const badge = $('r-status');
  badge.textContent = statusName(status);
  badge.className = `badge status-${status}`;
  badge.dataset.status = status;
  marker?.setStyle({ fillColor: STATUS_COLOURS[status] });
  document.getElementById('view-report').dataset.status = status;
  const tracked = Boolean(state.token);
  $('rate-form').hidden = !(tracked && status === 'resolved');
  $('reopen-form').hidden = !(tracked && (status === 'resolved' || status === 'closed'));
}

function renderTimeline(timeline) {
  $('r-timeline-box').hidden = !timeline;
  if (!timeline) return;
  const list = $('r-timeline');
  list.replaceChildren();
  for (const e of timeline.entries) {
    const li = document.createElement('li');
    const time = document.createElement('time');
    time.dateTime = e.at;
    time.textContent = formatTime(e.at);
    const what = document.createElement('strong');
    what.textContent = t(`event.${e.type}`);
    li.append(time, ' ', what);
    if (e.agency_name) li.append(` · ${e.agency_name}`);
    if (e.note) {
      const note = document.createElement('p');
      note.textContent = e.note;
      li.append(note);
    }
    list.append(li);
  }
  if (timeline.rating) {
    $('rated').textContent = t('rated', { n: timeline.rating });
    $('rated').hidden = false;
  }
}

async function showMap() {
  const v = state.view;
  if (!map) map = await createMap($('report-map'));
  if (marker) map.removeLayer(marker);
  marker = statusMarker(v.lat, v.lon, v.status).addTo(map);
  map.setView([v.lat, v.lon], 16);
  setTimeout(() => map.invalidateSize(), 0);
}

// notify's stream: each `status` event shows the new status at once, then the view and
// timeline are read again from intake (whose projection may trail notify's by a moment).
function listen(delay = 0) {
  const url = `${cfg().notify_url}/api/v1/reports/${encodeURIComponent(state.id)}/stream`;
  const id = state.id;
  retry = setTimeout(() => {
    if (state.id !== id) return;
    stream = new EventSource(url);
    $('r-live').hidden = false;
    stream.addEventListener('status', (e) => onStatus(JSON.parse(e.data)));
    stream.addEventListener('error', () => {
      if (stream && stream.readyState === EventSource.CLOSED) {
        stream = null;
        listen(Math.min(Math.max(delay * 2, 3000), 60000));
      }
    });
  }, delay);
}

// The stream replays the report's history first: only the newest change of a burst counts.
let latest = null;
let syncTimer = null;

function onStatus(change) {
  if (change.report_id !== state.id) return;
  latest = change;
  clearTimeout(syncTimer);
  syncTimer = setTimeout(sync, 150);
}

async function sync() {
  const change = latest;
  if (!change || change.status === state.view?.status) return;
  setStatus(change.status);
  $('announce').textContent = t('statusChanged', { status: statusName(change.status) });
  for (let i = 0; i < 10; i += 1) {
    await refresh();
    if (state.view.status === change.status || latest !== change) break;
    await new Promise((ok) => setTimeout(ok, 500));
  }
  if (latest === change) setStatus(change.status);
}

async function rate(e) {
  e.preventDefault();
  $('rate-error').textContent = '';
  if (!stars) {
    $('rate-error').textContent = t('fixErrors', { fields: t('rating') });
    $('star-1').focus();
    return;
  }
  const comment = $('rate-comment').value.trim();
  try {
    await api(`/api/v1/reports/${encodeURIComponent(state.id)}/rating`, {
      method: 'POST',
      token: state.token,
      json: comment ? { rating: stars, comment } : { rating: stars },
    });
  } catch (err) {
    $('rate-error').textContent = err instanceof ApiError ? err.message : t('errorNetwork');
    return;
  }
  await refresh();
  $('rated').textContent = t('rated', { n: stars });
  $('rated').hidden = false;
  $('announce').textContent = t('rated', { n: stars });
}

async function reopen(e) {
  e.preventDefault();
  $('reopen-error').textContent = '';
  const reason = $('reopen-reason').value.trim();
  if (!reason) {
    $('reopen-error').textContent = t('fixErrors', { fields: t('reason') });
    $('reopen-reason').focus();
    return;
  }
  try {
    await api(`/api/v1/reports/${encodeURIComponent(state.id)}/reopen`, {
      method: 'POST',
      token: state.token,
      json: { reason },
    });
  } catch (err) {
    $('reopen-error').textContent = err instanceof ApiError ? err.message : t('errorNetwork');
    return;
  }
  $('reopen-reason').value = '';
  await refresh();
}
