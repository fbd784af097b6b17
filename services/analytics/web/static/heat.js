// The heat grid of the statistics API (/api/v1/stats/grid) drawn over a Leaflet map whose
// base layer is the jurisdiction's area boundaries (and tiles when a tile URL is set).
const T = {
  vi: { title: "Bản đồ nhiệt phản ánh", from: "Từ ngày", to: "Đến ngày", apply: "Xem", back: "Về trang thống kê",
    list: "Danh sách ô (cho trình đọc màn hình)", cells: "Số phản ánh theo ô", centre: "Tâm ô", count: "Số phản ánh",
    legend: "Màu đậm hơn: nhiều phản ánh hơn (tối đa {max} trong một ô).", none: "Chưa có dữ liệu.", map: "Bản đồ nhiệt" },
  en: { title: "Reports heat map", from: "From", to: "To", apply: "Show", back: "Back to the statistics",
    list: "Cells as a list (for screen readers)", cells: "Reports per cell", centre: "Cell centre", count: "Reports",
    legend: "Darker: more reports (at most {max} in one cell).", none: "No data yet.", map: "Heat map" }
};
const ROOT = new URL("../", import.meta.url);
const cfg = (() => {
  try { return JSON.parse(document.querySelector('meta[name="heat-config"]').content); } catch (e) { return {}; }
})();
const params = new URLSearchParams(location.search);
let lang = params.get("lang") || ((navigator.languages || ["vi"])[0] || "vi").slice(0, 2);
if (lang !== "en") lang = "vi";
const t = (k, v) => Object.entries(v || {}).reduce((s, [a, b]) => s.replace("{" + a + "}", b), T[lang][k] || k);
const $ = (id) => document.getElementById(id);

const map = L.map("heat-map", { center: [16.4637, 107.5909], zoom: 13, attributionControl: !!cfg.tiles });
if (cfg.tiles) L.tileLayer(cfg.tiles, { maxZoom: 19, attribution: cfg.attribution || "" }).addTo(map);
const cells = L.featureGroup().addTo(map);
let fitted = false; // the first grid with cells frames the map; the areas only when none

async function areas() {
  if (!cfg.areas) return;
  try {
    const body = await (await fetch(cfg.areas, { headers: { Accept: "application/json" } })).json();
    const features = (body.items || []).map((a) => ({ type: "Feature", properties: a, geometry: a.geometry }));
    const layer = L.geoJSON({ type: "FeatureCollection", features }, {
      style: (f) => ({ color: f.properties.level === "ward" ? "#7a3e00" : "#3d4f63", weight: 1.5, fillOpacity: 0.02 }),
      onEachFeature: (f, l) => l.bindTooltip((f.properties.name || {})[lang] || f.properties.id)
    }).addTo(map);
    layer.bringToBack();
    if (!fitted && layer.getLayers().length) map.fitBounds(layer.getBounds());
  } catch (e) { /* boundaries are decoration: the grid still shows */ }
}

function translate() {
  document.documentElement.lang = lang;
  document.title = t("title");
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.getAttribute("data-i18n")); });
  document.querySelectorAll(".lang button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === lang)));
  $("heat-map").setAttribute("aria-label", t("map"));
}

async function grid() {
  const q = new URLSearchParams({ lang, cell: "0.005" });
  if ($("f-from").value) q.set("from", $("f-from").value);
  if ($("f-to").value) q.set("to", $("f-to").value);
  const r = await fetch(new URL("api/v1/stats/grid?" + q, ROOT), { headers: { Accept: "application/json" } });
  const body = r.ok ? await r.json() : { cells: [] };
  const max = Math.max(1, ...body.cells.map((c) => c.count));
  cells.clearLayers();
  const rows = $("cells").tBodies[0];
  rows.textContent = "";
  body.cells.forEach((c) => {
    const rect = L.rectangle([[c.south, c.west], [c.north, c.east]], {
      stroke: false, fillColor: "#c81e1e", fillOpacity: 0.15 + 0.65 * (c.count / max), className: "heat-cell"
    }).bindTooltip(c.count + " · " + t("count").toLowerCase());
    rect.addTo(cells);
    const tr = document.createElement("tr");
    [c.lat.toFixed(4) + ", " + c.lon.toFixed(4), String(c.count)].forEach((v, i) => {
      const td = document.createElement(i ? "td" : "th");
      if (!i) td.scope = "row";
      td.textContent = v;
      tr.appendChild(td);
    });
    rows.appendChild(tr);
  });
  if (!fitted && body.cells.length) { map.fitBounds(cells.getBounds(), { maxZoom: 15, padding: [24, 24] }); fitted = true; }
  $("legend").textContent = body.cells.length ? t("legend", { max }) : t("none");
  document.body.dataset.cells = String(body.cells.length);
}

async function refresh() { translate(); await grid(); document.body.dataset.ready = "true"; }

document.querySelectorAll(".lang button").forEach((b) => b.addEventListener("click", () => { lang = b.dataset.lang; refresh(); }));
$("filters").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
areas();
refresh();
