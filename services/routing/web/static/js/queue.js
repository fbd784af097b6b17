// The agency's queue (operators: any agency) and the IOC triage queue: overdue first, then by
// due time (the API's order), overdue ones highlighted with a badge, not by colour alone.
import { api, cached, session } from "./api.js";
import { field, h, route, say, select } from "./dom.js";
import { named, t, when } from "./i18n.js";

const STATUSES = ["assigned", "accepted", "in_progress", "resolved", "rejected", "duplicate"];
export const OPEN = "assigned,accepted,in_progress";
const filters = { status: OPEN, category: "", overdue: false, agency_id: "" };

export async function lookups() {
  const [categories, agencies] = await Promise.all([cached("categories"), cached("agencies")]);
  const cat = Object.fromEntries(categories.map((c) => [c.code, c]));
  const ag = Object.fromEntries(agencies.map((a) => [a.id, a]));
  return {
    categories, agencies,
    category: (code) => named(cat[code] && cat[code].name, code),
    agency: (id) => (id ? named(ag[id] && ag[id].name, id) : "—")
  };
}

export function statusBadge(status) {
  return h("span", { class: "badge s-" + status }, t(status));
}

function item(a, names) {
  const cls = "item" + (a.overdue ? " overdue" : "");
  return h("li", { class: cls, "data-id": a.id, "data-report": a.report_id },
    h("a", { href: route("#/a/" + encodeURIComponent(a.id)), class: "title" }, names.category(a.category)),
    h("div", { class: "meta" },
      statusBadge(a.status),
      a.overdue ? h("span", { class: "badge overdue-badge" }, t("overdue")) : null,
      h("span", {}, t("due") + ": ", h("time", { datetime: a.due_at }, when(a.due_at))),
      h("span", {}, t("agency") + ": " + names.agency(a.agency_id)),
      a.area_id ? h("span", {}, t("area") + ": " + a.area_id) : null,
      h("span", {}, t("attempt") + ": " + a.attempt)));
}

function list(items, names) {
  if (!items.length) return h("p", { class: "empty" }, t("none"));
  return h("ol", { class: "items", "aria-label": t("count", { n: items.length }) }, items.map((a) => item(a, names)));
}

function filterForm(names, onApply) {
  const status = select("status", [[OPEN, t("openStatuses")], ["", t("any")]].concat(
    STATUSES.map((s) => [s, t(s)])), filters.status);
  const category = select("category", [["", t("any")]].concat(
    names.categories.map((c) => [c.code, named(c.name, c.code)])), filters.category);
  const overdue = h("input", { type: "checkbox", name: "overdue", id: "f-overdue", checked: filters.overdue });
  const agency = session.has("operator") ? select("agency_id", [["", t("any")]].concat(
    names.agencies.map((a) => [a.id, named(a.name, a.id)])), filters.agency_id) : null;
  const form = h("form", { class: "filters", "aria-label": t("filters") },
    field(t("status"), status), field(t("category"), category),
    agency ? field(t("agency"), agency) : null,
    h("div", { class: "field check" }, overdue, h("label", { for: "f-overdue" }, t("overdueOnly"))),
    h("button", { type: "submit" }, t("apply")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    Object.assign(filters, {
      status: status.value, category: category.value, overdue: overdue.checked,
      agency_id: agency ? agency.value : ""
    });
    onApply();
  });
  return form;
}

export async function queueView(main) {
  const names = await lookups();
  const mine = session.claims.agency_id;
  const title = mine && !session.has("operator") ? t("queueOf", { agency: names.agency(mine) }) : t("queue");
  const results = h("div", { id: "results", "aria-live": "polite" });
  const load = async () => {
    results.textContent = t("loading");
    const body = await api("assignments", { query: {
      status: filters.status, category: filters.category, agency_id: filters.agency_id,
      overdue: filters.overdue ? "true" : "", limit: 200
    } });
    results.textContent = "";
    results.appendChild(list(body.items, names));
  };
  main.append(h("h1", { tabindex: "-1" }, title), filterForm(names, () => load().catch(fail)), results);
  await load();
}

export async function triageView(main) {
  const names = await lookups();
  const results = h("div", { id: "results" });
  main.append(h("h1", { tabindex: "-1" }, t("triage")), results);
  const body = await api("triage", { query: { limit: 200 } });
  results.appendChild(list(body.items, names));
}

function fail(err) { say(t("error", { msg: err.message }), "error"); }
