// The workflow forms of one assignment: only those its status (and the caller's scopes) allow.
import { api, session } from "./api.js";
import { field, h, say, select } from "./dom.js";
import { named, t } from "./i18n.js";

const OPEN = ["assigned", "accepted", "in_progress"];
const MAX_PHOTOS = 5;
const MAX_SIDE = 1600;

// Photos are re-encoded as JPEG at most MAX_SIDE pixels wide or high before upload (routing
// re-encodes them again and strips metadata); a file the browser cannot decode goes as is.
async function shrink(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((ok) => canvas.toBlob(ok, "image/jpeg", 0.85));
    return blob || file;
  } catch (e) { return file; }
}

function textarea(name, required, max) {
  return h("textarea", { name, required, maxlength: max || 2000, rows: 3 });
}

function agencyPicker(names, exclude) {
  return select("agency_id", names.agencies.filter((a) => a.id !== exclude)
    .map((a) => [a.id, named(a.name, a.id)]), "");
}

// One form: `build()` gives its fields, `send(form)` does the call and resolves to the assignment.
function form(key, names, controls, send, done) {
  const button = h("button", { type: "submit" }, t(key));
  const node = h("form", { class: "action", "data-action": key, "aria-label": t(key) },
    h("h3", {}, t(key)), controls, button);
  node.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    say(t("sending"));
    try { done(await send(node), t(key)); } catch (err) {
      say(t("failed", { msg: err.message }), "error");
      button.disabled = false;
    }
  });
  return node;
}

function post(a, verb, json) {
  return api("assignments/" + encodeURIComponent(a.id) + "/" + verb, { method: "POST", json });
}

function optionalNote() {
  return field(t("note") + " " + t("optional"), textarea("note", false));
}

function noteOf(f) { return f.elements.note.value.trim() || null; }

async function resolveBody(f) {
  const body = new FormData();
  body.append("note", f.elements.note.value.trim());
  for (const file of Array.from(f.elements.photos.files).slice(0, MAX_PHOTOS)) {
    const blob = await shrink(file);
    body.append("photos", blob, (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg");
  }
  return body;
}

function staffForms(a, names, done) {
  const s = a.status, forms = [];
  const isIoc = a.agency_id === "ioc";
  if (s === "assigned") forms.push(form("accept", names, [optionalNote()], (f) => post(a, "accept", { note: noteOf(f) }), done));
  if (s === "assigned" || s === "accepted") forms.push(form("start", names, [optionalNote()], (f) => post(a, "start", { note: noteOf(f) }), done));
  if (OPEN.includes(s)) {
    const photos = h("input", { type: "file", name: "photos", accept: "image/jpeg,image/png,image/webp", multiple: true });
    forms.push(form("resolve", names, [
      field(t("resolveNote"), textarea("note", true, 4000)),
      field(t("photo") + " " + t("optional"), photos, t("photoHelp", { n: MAX_PHOTOS }))
    ], async (f) => api("assignments/" + encodeURIComponent(a.id) + "/resolve", { method: "POST", body: await resolveBody(f) }), done));
  }
  if ((s === "assigned" || s === "accepted") && !isIoc) {
    forms.push(form("reject", names, [field(t("rejectReason"), textarea("reason", true, 1000))],
      (f) => post(a, "reject", { reason: f.elements.reason.value.trim() }), done));
  }
  if (OPEN.includes(s)) {
    forms.push(form("transfer", names, [field(t("toAgency"), agencyPicker(names, a.agency_id)), optionalNote()],
      (f) => post(a, "transfer", { agency_id: f.elements.agency_id.value, note: noteOf(f) }), done));
  }
  return forms;
}

function operatorForms(a, names, done) {
  const forms = [form("assign", names, [field(t("toAgency"), agencyPicker(names, a.agency_id)), optionalNote()],
    (f) => post(a, "assign", { agency_id: f.elements.agency_id.value, note: noteOf(f) }), done)];
  if (OPEN.includes(a.status)) {
    forms.push(recategorizeForm(a, names, done));
    const original = h("input", { type: "text", name: "duplicate_of", required: true, maxlength: 100, autocomplete: "off" });
    forms.push(form("markDuplicate", names, [field(t("duplicateOf"), original)],
      (f) => post(a, "duplicate", { duplicate_of: f.elements.duplicate_of.value.trim() }), done));
    const reason = select("reason", [["spam", t("spam")], ["not_public_matter", t("not_public_matter")]], "spam");
    forms.push(form("dismiss", names, [field(t("dismissReason"), reason), optionalNote()],
      (f) => post(a, "dismiss", { reason: f.elements.reason.value, note: noteOf(f) }), done));
  }
  return forms;
}

// Change the category (re-routed by its rules); the model's suggestions are one click each.
function recategorizeForm(a, names, done) {
  const options = names.categories.filter((c) => c.code !== a.category).map((c) => [c.code, names.category(c.code)]);
  const picker = select("category", options, "");
  const send = (category, f) => post(a, "category", { category, reason: f ? noteOf(f) : null });
  const node = form("recategorize", names, [field(t("toCategory"), picker), optionalNote()],
    (f) => send(f.elements.category.value, f), done);
  const hints = (a.suggestions || []).filter((s) => s.category !== a.category).map((s) => {
    const b = h("button", { type: "button", class: "suggestion", "data-category": s.category },
      t("suggested", { category: names.category(s.category), pct: Math.round(s.confidence * 100) }));
    b.addEventListener("click", async () => {
      b.disabled = true;
      try { done(await send(s.category, node), t("recategorize")); } catch (err) {
        say(t("failed", { msg: err.message }), "error");
        b.disabled = false;
      }
    });
    return b;
  });
  if (hints.length) node.insertBefore(h("p", { class: "suggestions" }, a.disputed ? t("disputed") : "", hints), node.children[1]);
  return node;
}

export function actionsPanel(a, names, done) {
  const forms = staffForms(a, names, done);
  if (session.has("operator")) forms.push(...operatorForms(a, names, done));
  return h("section", { class: "actions", "aria-labelledby": "act-h" },
    h("h2", { id: "act-h" }, t("actions")),
    forms.length ? forms : h("p", {}, t("noActions")));
}
