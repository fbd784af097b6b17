// The operations console: hash routes (#/login, #/queue, #/a/<id>, #/triage, #/jurisdiction,
// #/accounts), rendered into <main>; focus moves to each view's heading.
import { accountsView, jurisdictionView } from "./admin.js";
import { login, session } from "./api.js";
import { detailView } from "./detail.js";
import { $, field, h, route, say } from "./dom.js";
import { i18n, setLang, t } from "./i18n.js";
import { queueView, triageView } from "./queue.js";

const VIEWS = [
  { hash: "#/queue", key: "queue", scope: ["staff", "operator"], view: queueView },
  { hash: "#/triage", key: "triage", scope: ["operator"], view: triageView },
  { hash: "#/jurisdiction", key: "jurisdiction", scope: ["admin"], view: jurisdictionView },
  { hash: "#/accounts", key: "accounts", scope: ["admin"], view: accountsView }
];

function allowed() { return VIEWS.filter((v) => v.scope.some((s) => session.has(s))); }

function translateStatic() {
  document.documentElement.lang = i18n.lang;
  document.title = t("brand");
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.getAttribute("data-i18n")); });
  document.querySelectorAll(".lang button").forEach((b) => {
    b.setAttribute("aria-pressed", String(b.getAttribute("data-lang") === i18n.lang));
  });
}

function chrome(current) {
  const nav = $("nav");
  nav.textContent = "";
  nav.setAttribute("aria-label", t("brand"));
  const signedIn = !!session.claims;
  nav.hidden = !signedIn;
  $("who").hidden = !signedIn;
  if (!signedIn) return;
  nav.appendChild(h("ul", {}, allowed().map((v) => h("li", {},
    h("a", { href: route(v.hash), "aria-current": v.hash === current ? "page" : null }, t(v.key))))));
  $("who-name").textContent = session.claims.sub;
}

function loginView(main) {
  const user = h("input", { type: "text", name: "username", autocomplete: "username", required: true, autocapitalize: "none" });
  const pass = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const button = h("button", { type: "submit" }, t("signIn"));
  const form = h("form", { class: "login", id: "login" },
    h("p", {}, t("loginHelp")), field(t("username"), user), field(t("password"), pass), button);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      await login(user.value.trim(), pass.value);
      say("");
      const back = location.hash.startsWith("#/") && location.hash !== "#/login";
      if (back) show(); else location.hash = allowed().length ? allowed()[0].hash : "#/queue";
    } catch (err) {
      say(err.status === 401 || err.status === 400 ? t("badLogin") : t("error", { msg: err.message }), "error");
      button.disabled = false;
      pass.focus();
    }
  });
  main.append(h("h1", { tabindex: "-1" }, t("login")), form);
}

async function show() {
  const hash = location.hash || "";
  const main = $("main");
  if (hash && !hash.startsWith("#/")) return; // an in-page anchor, not a route
  session.load();
  translateStatic();
  main.textContent = "";
  main.removeAttribute("data-view");
  if (!session.claims) { chrome(""); loginView(main); finish(main, "login"); return; }
  const views = allowed();
  const view = views.find((v) => hash === v.hash);
  const detail = hash.startsWith("#/a/") ? decodeURIComponent(hash.slice(4)) : null;
  if (!view && !detail) { location.replace(route(views.length ? views[0].hash : "#/queue")); return; }
  chrome(view ? view.hash : "");
  main.textContent = t("loading");
  try {
    main.textContent = "";
    if (detail) await detailView(main, detail);
    else await view.view(main);
    finish(main, detail ? "detail" : view.key);
  } catch (err) {
    if (!session.claims) return;
    main.textContent = "";
    main.append(h("h1", { tabindex: "-1" }, t("error", { msg: "" })), h("p", { class: "error" }, err.message));
    finish(main, "error");
  }
}

let first = true;
function finish(main, name) {
  main.setAttribute("data-view", name);
  const heading = main.querySelector("h1");
  if (heading && !first) heading.focus();
  first = false;
  document.body.setAttribute("data-ready", name);
}

session.onExpired = () => { say(t("expired"), "error"); location.hash = "#/login"; show(); };
$("logout").addEventListener("click", () => { session.clear(); say(""); location.hash = "#/login"; });
$("skip").addEventListener("click", () => $("main").focus());
document.querySelectorAll(".lang button").forEach((b) => b.addEventListener("click", () => {
  setLang(b.getAttribute("data-lang"));
  show();
}));
window.addEventListener("hashchange", show);
show();
