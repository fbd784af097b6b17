// A Leaflet map whose base layer is the jurisdiction's area boundaries; tiles on top only when
// a tile URL is configured and reachable (after repeated tile errors they are dropped).
import { cfg } from './api.js';
import { getLang, t } from './i18n.js';

const L = window.L;
let areas = null;

async function loadAreas() {
  if (!areas) areas = await (await fetch(cfg().areas_url)).json();
  return areas;
}

export const STATUS_COLOURS = {
  received: '#1d4ed8',
  assigned: '#7c3aed',
  in_progress: '#b45309',
  resolved: '#15803d',
  closed: '#374151',
  duplicate: '#6b7280',
  rejected: '#b91c1c',
};

export async function createMap(el, { onNotice } = {}) {
  const c = cfg();
  const map = L.map(el, { zoomControl: true, attributionControl: true, keyboard: true });
  map.attributionControl.setPrefix(false);
  map.setView(c.map_center, c.map_zoom);
  const boundaries = L.geoJSON(await loadAreas(), {
    style: (f) => ({
      color: f.properties.level === 'ward' ? '#0f766e' : '#334155',
      weight: f.properties.level === 'province' ? 1 : 2,
      fillColor: '#e2e8f0',
      fillOpacity: f.properties.level === 'province' ? 0.35 : 0.15,
      interactive: false,
    }),
  });
  boundaries.addTo(map);
  const label = () =>
    boundaries.eachLayer((layer) => {
      const name = layer.feature.properties.name;
      if (layer.feature.properties.level !== 'province') {
        layer.unbindTooltip();
        layer.bindTooltip(name[getLang()] || name.en, { permanent: false, direction: 'center' });
      }
    });
  label();
  if (c.tile_url) {
    const tiles = L.tileLayer(c.tile_url, { attribution: c.tile_attribution, maxZoom: 19 });
    let errors = 0;
    tiles.on('tileerror', () => {
      errors += 1;
      if (errors === 3) {
        map.removeLayer(tiles);
        onNotice?.(t('tilesOff'));
      }
    });
    tiles.addTo(map);
    boundaries.bringToFront();
  }
  map.refreshLabels = label;
  return map;
}

export function statusMarker(lat, lon, status) {
  return L.circleMarker([lat, lon], {
    radius: 9,
    color: '#ffffff',
    weight: 2,
    fillColor: STATUS_COLOURS[status] || '#111827',
    fillOpacity: 0.95,
  });
}

export function pin(lat, lon) {
  return L.circleMarker([lat, lon], {
    radius: 11,
    color: '#111827',
    weight: 3,
    fillColor: '#facc15',
    fillOpacity: 1,
  });
}
