// One assignment: what was reported (intake's public view: never who reported it), the map,
// the resolution photos, the timeline, and the actions its status allows.
import { api, intakeUrl, publicReport, session } from "./api.js";
import { actionsPanel } from "./actions.js";
import { h, route, say } from "./dom.js";
import { t, when } from "./i18n.js";
import { makeMap, pin } from "./map.js";
import { lookups, statusBadge } from "./queue.js";

function facts(a, names) {
  const row = (k, v) => [h("dt", {}, k), h("dd", {}, v)];
  return h("dl", { class: "facts" },
    row(t("status"), [statusBadge(a.status), a.overdue ? h("span", { class: "badge overdue-badge" }, t("overdue")) : null]),
    row(t("due"), h("time", { datetime: a.due_at }, when(a.due_at))),
    row(t("agency"), names.agency(a.agency_id)),
    row(t("area"), a.area_id || "—"),
    row(t("attempt"), String(a.attempt)),
    row(t("reason"), a.reason),
    row(t("created"), when(a.created_at)),
    row(t("reportId"), h("code", {}, a.report_id)));
}

function gallery(title, photos) {
  if (!photos.length) return null;
  return h("section", { class: "photos", "aria-label": title }, h("h2", {}, title),
    h("ul", {}, photos.map((p, i) => h("li", {},
      h("a", { href: p.url, target: "_blank", rel: "noopener" },
        h("img", { src: p.thumb || p.url, alt: title + " " + (i + 1), loading: "lazy" }))))));
}

async function reportSection(a) {
  const box = h("section", { class: "public", "aria-label": t("report") });
  try {
    const view = await publicReport(a.report_id);
    if (!view) return null;
    box.append(h("h2", {}, t("description")), h("p", { class: "description" }, view.description || "—"));
    if (view.address) box.append(h("p", {}, t("address") + ": " + view.address));
    box.append(h("p", {}, t("supporters") + ": " + (view.supporters || 0)));
    const photos = (view.photos || []).map((p) => ({ url: intakeUrl(p.url), thumb: intakeUrl(p.thumb_url) }));
    const g = gallery(t("photos"), photos);
    if (g) box.append(g);
  } catch (err) {
    box.append(h("p", { class: "help" }, t("publicUnavailable")));
  }
  return box;
}

function who(by, names) {
  if (!by) return "";
  if (by.agency_id) return names.agency(by.agency_id) + " (" + by.sub + ")";
  return by.sub;
}

function timeline(a, names) {
  const entries = a.history.slice().reverse();
  return h("section", { "aria-labelledby": "tl-h" }, h("h2", { id: "tl-h" }, t("timeline")),
    h("ol", { class: "timeline" }, entries.map((e) => {
      const extra = [];
      if (e.agency_id && e.action !== "route") extra.push(t("to", { agency: names.agency(e.agency_id) }));
      ["reason", "note"].forEach((k) => { if (e[k]) extra.push(String(e[k])); });
      return h("li", { "data-action": e.action },
        h("time", { datetime: e.at }, when(e.at)), " ",
        h("strong", {}, t("a_" + e.action)), " ",
        h("span", { class: "by" }, t("by", { who: who(e.by, names) })),
        extra.length ? h("p", {}, extra.join(" · ")) : null);
    })));
}

export async function detailView(main, id) {
  const names = await lookups();
  const a = await api("assignments/" + encodeURIComponent(id));
  render(main, a, names);
}

function render(main, a, names) {
  main.textContent = "";
  const mapBox = h("div", { id: "detail-map" });
  const resolution = gallery(t("resolutionPhotos"), a.photo_urls.map((u) => ({ url: u })));
  const publicBox = h("div", { id: "public" });
  main.append(
    h("p", {}, h("a", { href: route(session.has("operator") && a.agency_id === "ioc" ? "#/triage" : "#/queue") }, t("back"))),
    h("h1", { tabindex: "-1", "data-status": a.status }, names.category(a.category)),
    h("div", { class: "detail" },
      h("div", { class: "col" }, facts(a, names), publicBox, resolution,
        h("section", { "aria-label": t("location") }, h("h2", {}, t("location")), mapBox)),
      h("div", { class: "col" },
        actionsPanel(a, names, (next, what) => after(main, a, next, names, what)),
        timeline(a, names))));
  reportSection(a).then((box) => { if (box) publicBox.replaceWith(box); });
  makeMap(mapBox).then(({ map }) => pin(map, a.location.lat, a.location.lon, names.category(a.category)));
}

function after(main, before, next, names, what) {
  const gone = !session.has("operator") && next.agency_id !== session.claims.agency_id;
  say(gone ? t("done", { what }) + " " + t("movedAway") : t("done", { what }), "ok");
  if (gone) { location.hash = "#/queue"; return; }
  render(main, next, names);
  const heading = main.querySelector("h1");
  if (heading) heading.focus();
}

