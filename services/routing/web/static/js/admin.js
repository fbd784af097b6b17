// Admins: the jurisdiction in force (read-only: agencies, categories, areas on the map) and
// the logins (never a password hash: the API does not return one).
import { api } from "./api.js";
import { h } from "./dom.js";
import { named, t } from "./i18n.js";
import { makeMap } from "./map.js";

function table(caption, columns, rows) {
  // Focusable and named: a table wider than a phone scrolls sideways with the keyboard too.
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption }, h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((v, i) => (i === 0 ? h("th", { scope: "row" }, v) : h("td", {}, v))))))));
}

export async function jurisdictionView(main) {
  const j = await api("admin/jurisdiction");
  const mapBox = h("div", { id: "areas-map", class: "tall" });
  main.append(
    h("h1", { tabindex: "-1" }, t("jurisdiction")),
    h("p", {}, t("version", { v: j.version }) + (j.notice ? " — " + j.notice : "")),
    h("section", { "aria-label": t("areas") }, h("h2", {}, t("areas")), mapBox,
      table(t("areas"), [t("code"), t("name"), t("level"), t("parent")],
        j.areas.map((a) => [a.id, named(a.name, a.id), a.level, a.parent || "—"]))),
    h("section", {}, h("h2", {}, t("agencies")),
      table(t("agencies"), [t("code"), t("name"), t("kind")],
        j.agencies.map((a) => [a.id, named(a.name, a.id), a.kind]))),
    h("section", {}, h("h2", {}, t("categories")),
      table(t("categories"), [t("code"), t("name"), t("priority"), t("deadline")],
        j.categories.map((c) => [c.code, named(c.name, c.code), c.priority, String(c.deadline_hours)]))));
  const { map, areaLayer } = await makeMap(mapBox, t("areas"));
  if (areaLayer.getLayers().length) map.fitBounds(areaLayer.getBounds(), { padding: [8, 8] });
}

export async function accountsView(main) {
  const body = await api("admin/accounts");
  main.append(h("h1", { tabindex: "-1" }, t("accounts")),
    table(t("accounts"), [t("username"), t("scopes"), t("agency"), t("demo")],
      body.items.map((a) => [a.username, a.scopes.join(", "), a.agency_id || "—", a.demo ? t("yes") : t("no")])));
}
