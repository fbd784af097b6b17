// Routing's API (same origin as this console), the login and intake's public report view.
//
// The access token lives in sessionStorage: it survives a reload of the tab, is never sent
// automatically (no cookie, so no CSRF), is not shared with other tabs and is gone when the
// tab closes (shared counter computers in ward offices). It is readable by scripts of this
// origin, which is why the page allows scripts from routing only (CSP) and never inserts
// server data as HTML.

// This module is <service root>/console/js/api.js: the service root is two levels up, also
// behind a prefix-stripping ingress (e.g. /console/console/js/api.js -> /console/).
export const ROOT = new URL("../../", import.meta.url);
const API = new URL("api/v1/", ROOT);
const TOKEN = "fr.console.token";

function readConfig() {
  const meta = document.querySelector('meta[name="console-config"]');
  try { return JSON.parse(meta ? meta.content : "{}"); } catch (e) { return {}; }
}
export const config = readConfig();

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

function decode(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(part))));
  } catch (e) { return null; }
}

export const session = {
  token: null, claims: null, listeners: [],
  load() {
    const token = sessionStorage.getItem(TOKEN);
    const claims = token ? decode(token) : null;
    if (claims && claims.exp * 1000 > Date.now()) { this.token = token; this.claims = claims; }
    else this.clear();
  },
  clear() { this.token = null; this.claims = null; sessionStorage.removeItem(TOKEN); },
  set(token) {
    this.token = token; this.claims = decode(token); sessionStorage.setItem(TOKEN, token);
  },
  has(scope) { return !!this.claims && String(this.claims.scope || "").split(" ").includes(scope); },
  expired() { return !this.claims || this.claims.exp * 1000 <= Date.now(); },
  onExpired: null
};

async function errorOf(response) {
  let code = "http_" + response.status, message = response.statusText || code;
  try {
    const body = await response.json();
    if (body && body.error) { code = body.error.code || code; message = body.error.message || message; }
  } catch (e) { /* not JSON */ }
  return new ApiError(response.status, code, message);
}

export async function api(path, options) {
  const opts = Object.assign({ method: "GET" }, options || {});
  const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
  if (session.token) headers.Authorization = "Bearer " + session.token;
  let body = opts.body;
  if (opts.json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(opts.json); }
  const url = new URL(path, API);
  Object.entries(opts.query || {}).forEach(([k, v]) => {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  });
  const response = await fetch(url, { method: opts.method, headers, body });
  if (response.status === 401 && session.token) {
    session.clear();
    if (session.onExpired) session.onExpired();
  }
  if (!response.ok) throw await errorOf(response);
  return response.status === 204 ? null : response.json();
}

export async function login(username, password) {
  const form = new URLSearchParams({ username, password, grant_type: "password" });
  const response = await fetch(new URL("auth/token", API), {
    method: "POST", body: form, headers: { Accept: "application/json" }
  });
  if (!response.ok) throw await errorOf(response);
  const body = await response.json();
  session.set(body.access_token);
  return session.claims;
}

// Intake's public view of a report (description, address, photos, supporters: never the
// contact). Cross-origin in `make run` (intake's CORS allow-list must name routing's origin);
// same origin under one host (config.intake = "/").
export function intakeBase() {
  if (!config.intake) return null;
  const base = config.intake.endsWith("/") ? config.intake : config.intake + "/";
  return new URL(base, location.href);
}

export async function publicReport(reportId) {
  const base = intakeBase();
  if (!base) return null;
  const response = await fetch(new URL("api/v1/reports/" + encodeURIComponent(reportId), base), {
    headers: { Accept: "application/json", "Accept-Language": document.documentElement.lang }
  });
  if (!response.ok) throw await errorOf(response);
  return response.json();
}

export function intakeUrl(path) {
  const base = intakeBase();
  return base ? new URL(String(path).replace(/^\//, ""), base).href : null;
}

// Catalogue lookups shared by the views (public endpoints, fetched once per page load).
const cache = {};
export function cached(path) {
  if (!cache[path]) cache[path] = api(path).then((b) => b.items).catch((e) => { delete cache[path]; throw e; });
  return cache[path];
}
