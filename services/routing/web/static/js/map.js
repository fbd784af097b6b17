// Leaflet maps (vendored UMD build, global `L`). The tile URL is a setting; without one, or
// when its tiles fail to load, the jurisdiction's area boundaries are the base layer.
import { ROOT, config } from "./api.js";
import { h } from "./dom.js";
import { named, t } from "./i18n.js";

const HUE = [16.4637, 107.5909];
let areasPromise = null;

export function areas() {
  if (!areasPromise) {
    areasPromise = fetch(new URL("console/areas.json", ROOT), { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : { items: [] }))
      .then((b) => b.items || [])
      .catch(() => []);
  }
  return areasPromise;
}

const STYLE = {
  province: { color: "#3d4f63", weight: 2, fillOpacity: 0.03, dashArray: "6 4" },
  district: { color: "#0b5cad", weight: 2, fillOpacity: 0.05 },
  ward: { color: "#7a3e00", weight: 1.5, fillOpacity: 0.08 }
};

function areaLayer(items) {
  const feats = items.map((a) => ({ type: "Feature", properties: a, geometry: a.geometry }));
  return L.geoJSON({ type: "FeatureCollection", features: feats }, {
    style: (f) => Object.assign({ fillColor: STYLE[f.properties.level] ? STYLE[f.properties.level].color : "#555" },
      STYLE[f.properties.level] || STYLE.ward),
    onEachFeature: (f, layer) => layer.bindTooltip(named(f.properties.name, f.properties.id), { sticky: true })
  });
}

// A map in `box` (an element); resolves to { map, areaLayer } once the base layer is drawn.
export async function makeMap(box, label) {
  box.classList.add("map");
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", label || t("mapLabel"));
  const map = L.map(box, { center: HUE, zoom: 13, keyboard: true, attributionControl: !!config.tiles });
  let failed = 0;
  if (config.tiles) {
    const tiles = L.tileLayer(config.tiles, { maxZoom: 19, attribution: config.attribution || "" });
    tiles.on("tileerror", () => { failed += 1; if (failed === 4) box.parentNode && noteNoTiles(box); });
    tiles.addTo(map);
  } else {
    noteNoTiles(box);
  }
  const layer = areaLayer(await areas()).addTo(map);
  if (!config.tiles && layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [8, 8] });
  return { map, areaLayer: layer };
}

function noteNoTiles(box) {
  if (box.nextSibling && box.nextSibling.className === "map-note") return;
  box.parentNode.insertBefore(h("p", { class: "map-note" }, t("mapNoTiles")), box.nextSibling);
}

export function pin(map, lat, lon, text) {
  const marker = L.circleMarker([lat, lon], {
    radius: 9, color: "#ffffff", weight: 3, fillColor: "#c0171d", fillOpacity: 1
  }).addTo(map);
  if (text) marker.bindTooltip(text);
  map.setView([lat, lon], 15);
  return marker;
}
