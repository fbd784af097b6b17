// The report form: category and its attributes, location (map tap, device, typed), nearby
// duplicates with +1, description, photos resized in the browser, submit, tracking link.
import { api, ApiError, cfg, residentToken } from './api.js';
import { getLang, statusName, t } from './i18n.js';
import { createMap, pin } from './map.js';
import { resize } from './photos.js';
import { renderAttributes, readAttributes } from './attributes.js';

const $ = (id) => document.getElementById(id);
let categories = [];
let map = null;
let marker = null;
let photos = [];
let idempotencyKey = crypto.randomUUID();
let nearbyTimer = null;

export async function init() {
  $('f-category').addEventListener('change', () => {
    renderAttributes($('f-attributes'), selected());
    checkNearby();
  });
  for (const id of ['f-lat', 'f-lon']) $(id).addEventListener('input', () => fromInputs());
  $('use-location').addEventListener('click', useDevice);
  $('use-centre').addEventListener('click', () => {
    const c = map.getCenter();
    setLocation(c.lat, c.lng);
  });
  $('f-photos').addEventListener('change', addPhotos);
  $('report-form').addEventListener('submit', submit);
  $('copy-link').addEventListener('click', async () => {
    $('tracking-url').select();
    try {
      await navigator.clipboard.writeText($('tracking-url').value);
    } catch {
      document.execCommand?.('copy');
    }
    $('copy-link').textContent = t('copied');
  });
  $('another').addEventListener('click', reset);
}

export async function enter() {
  $('photos-label').textContent = t('photos', { n: cfg().max_photos });
  if (!categories.length) await loadCategories();
  if (!map) {
    map = await createMap($('pick-map'));
    map.on('click', (e) => setLocation(e.latlng.lat, e.latlng.lng));
  }
  setTimeout(() => map.invalidateSize(), 0);
  showLocation();
}

export async function relabel() {
  categories = [];
  if (map) map.refreshLabels();
}

async function loadCategories() {
  const keep = $('f-category').value;
  const body = await api('/api/v1/categories');
  categories = body.items;
  const select = $('f-category');
  select.replaceChildren(new Option(t('chooseCategory'), ''));
  for (const c of categories) select.add(new Option(c.name, c.code));
  select.value = keep;
  renderAttributes($('f-attributes'), selected());
}

const selected = () => categories.find((c) => c.code === $('f-category').value) || null;

function picked() {
  const lat = parseFloat($('f-lat').value);
  const lon = parseFloat($('f-lon').value);
  const ok = Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
  return ok ? { lat, lon } : null;
}

function setLocation(lat, lon, pan = false) {
  $('f-lat').value = lat.toFixed(6);
  $('f-lon').value = lon.toFixed(6);
  fromInputs(pan);
}

function fromInputs(pan = true) {
  const loc = picked();
  if (loc) {
    if (marker) marker.setLatLng([loc.lat, loc.lon]);
    else marker = pin(loc.lat, loc.lon).addTo(map);
    if (pan) map.panTo([loc.lat, loc.lon]);
  }
  showLocation();
  checkNearby();
}

function showLocation() {
  const loc = picked();
  $('location-status').textContent = loc
    ? t('locationSet', { lat: loc.lat.toFixed(5), lon: loc.lon.toFixed(5) })
    : t('locationNone');
}

function useDevice() {
  if (!navigator.geolocation) {
    $('location-status').textContent = t('locationDenied');
    return;
  }
  $('location-status').textContent = t('locating');
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      setLocation(pos.coords.latitude, pos.coords.longitude, true);
      map.setView([pos.coords.latitude, pos.coords.longitude], Math.max(map.getZoom(), 16));
    },
    () => ($('location-status').textContent = t('locationDenied')),
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}

function checkNearby() {
  clearTimeout(nearbyTimer);
  nearbyTimer = setTimeout(loadNearby, 300);
}

async function loadNearby() {
  const loc = picked();
  const cat = $('f-category').value;
  if (!loc || !cat) {
    $('nearby').hidden = true;
    return;
  }
  const qs = new URLSearchParams({ lat: loc.lat, lon: loc.lon, category: cat, radius_m: cfg().duplicate_radius_m });
  let items = [];
  try {
    items = (await api(`/api/v1/reports/nearby?${qs}`)).items;
  } catch {
    items = [];
  }
  renderNearby(items);
}

const supportedKey = (id) => `fieldreports.supported.${id}`;

function renderNearby(items) {
  const list = $('nearby-list');
  list.replaceChildren();
  for (const n of items) {
    const li = document.createElement('li');
    li.className = 'nearby-item';
    const text = document.createElement('p');
    text.textContent = `${statusName(n.status)} · ${t('distance', { m: Math.round(n.distance_m) })} · ${n.description}`;
    const count = document.createElement('span');
    count.className = 'count';
    count.textContent = t('supporters', { n: n.supporters });
    const view = document.createElement('a');
    view.href = `#/report/${encodeURIComponent(n.id)}`;
    view.textContent = t('view');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary';
    const done = localStorage.getItem(supportedKey(n.id));
    button.textContent = done ? t('supported') : t('support');
    button.disabled = Boolean(done);
    button.addEventListener('click', () => support(n, button, count));
    li.append(text, count, ' ', view, ' ', button);
    list.append(li);
  }
  $('nearby').hidden = items.length === 0;
}

async function support(n, button, count) {
  button.disabled = true;
  try {
    const path = `/api/v1/reports/${encodeURIComponent(n.id)}/support`;
    const plusOne = async (fresh) =>
      api(path, { method: 'POST', headers: { 'X-Resident-Token': await residentToken({ fresh }) } });
    const view = await plusOne(false).catch((e) => {
      if (e instanceof ApiError && e.status === 401) return plusOne(true); // expired or rotated
      throw e;
    });
    count.textContent = t('supporters', { n: view.supporters });
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'already_supported')) {
      button.disabled = false;
      return;
    }
  }
  localStorage.setItem(supportedKey(n.id), '1');
  button.textContent = t('supported');
  $('announce').textContent = t('supported');
}

async function addPhotos(e) {
  const max = cfg().max_photos;
  $('form-error').textContent = '';
  for (const file of [...e.target.files]) {
    if (photos.length >= max) {
      $('form-error').textContent = t('tooManyPhotos', { n: max });
      break;
    }
    try {
      photos.push(await resize(file, cfg().photo_max_px));
    } catch {
      $('form-error').textContent = t('badPhoto');
    }
  }
  e.target.value = '';
  renderPhotos();
}

function renderPhotos() {
  const list = $('photo-previews');
  list.querySelectorAll('img').forEach((img) => URL.revokeObjectURL(img.src));
  list.replaceChildren();
  photos.forEach((file, i) => {
    const li = document.createElement('li');
    const img = document.createElement('img');
    img.src = URL.createObjectURL(file);
    img.alt = `${i + 1}`;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'secondary';
    remove.textContent = '×';
    remove.setAttribute('aria-label', t('removePhoto', { n: i + 1 }));
    remove.addEventListener('click', () => {
      photos.splice(i, 1);
      renderPhotos();
      $('f-photos').focus();
    });
    li.append(img, remove);
    list.append(li);
  });
}

function invalid() {
  const bad = [];
  const mark = (el, wrong) => {
    el.setAttribute('aria-invalid', String(wrong));
    if (wrong) bad.push(el);
  };
  mark($('f-category'), !$('f-category').value);
  for (const el of $('f-attributes').querySelectorAll('[data-required=true]')) {
    mark(el, !readAttributes($('f-attributes'), selected()).filled.has(el.dataset.code));
  }
  const loc = picked();
  mark($('f-lat'), !loc);
  mark($('f-lon'), !loc);
  mark($('f-description'), !$('f-description').value.trim());
  return bad;
}

function labelOf(el) {
  const id = el.id || el.querySelector('input')?.id;
  const label = el.tagName === 'FIELDSET' ? el.querySelector('legend') : document.querySelector(`label[for="${id}"]`);
  return (label?.textContent || el.name || '').replace('*', '').trim();
}

async function submit(e) {
  e.preventDefault();
  const error = $('form-error');
  const bad = invalid();
  if (bad.length) {
    error.textContent = t('fixErrors', { fields: [...new Set(bad.map(labelOf))].join(', ') });
    bad[0].focus();
    return;
  }
  const loc = picked();
  const form = new FormData();
  form.append('category', $('f-category').value);
  form.append('lat', String(loc.lat));
  form.append('lon', String(loc.lon));
  form.append('description', $('f-description').value.trim());
  form.append('language', getLang());
  if ($('f-address').value.trim()) form.append('address', $('f-address').value.trim());
  if ($('f-email').value.trim()) form.append('contact_email', $('f-email').value.trim());
  form.append('attributes', JSON.stringify(readAttributes($('f-attributes'), selected()).values));
  for (const p of photos) form.append('photos', p, p.name);
  const button = $('submit');
  button.disabled = true;
  button.textContent = t('sending');
  error.textContent = '';
  try {
    const created = await api('/api/v1/reports', {
      method: 'POST',
      form,
      headers: { 'Idempotency-Key': idempotencyKey },
    });
    done(created);
  } catch (err) {
    error.textContent = err instanceof ApiError ? `${err.message} (${err.code})` : t('errorNetwork');
  } finally {
    button.disabled = false;
    button.textContent = t('submit');
  }
}

function done(created) {
  const hash = `#/track/${encodeURIComponent(created.id)}?token=${encodeURIComponent(created.tracking_token)}`;
  const url = `${location.origin}${location.pathname}${hash}`;
  $('tracking-url').value = url;
  $('open-tracking').href = hash;
  $('copy-link').textContent = t('copy');
  $('report-form').hidden = true;
  $('created').hidden = false;
  $('created').focus();
  idempotencyKey = crypto.randomUUID();
}

function reset() {
  $('report-form').reset();
  photos = [];
  renderPhotos();
  if (marker) {
    map.removeLayer(marker);
    marker = null;
  }
  $('nearby').hidden = true;
  $('report-form').hidden = false;
  $('created').hidden = true;
  renderAttributes($('f-attributes'), selected());
}
