// Calls to intake (same origin) and the page's configuration.
import { getLang } from './i18n.js';

let config = null;

export async function loadConfig() {
  if (!config) config = await (await fetch('/web/config.json')).json();
  return config;
}

export const cfg = () => config;

// A random id per browser: scopes idempotency keys and the once-per-client +1.
export function clientId() {
  let id = localStorage.getItem('fieldreports.client');
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem('fieldreports.client', id);
  }
  return id;
}

// The anonymous resident token "+1" needs (POST /api/v1/residents, a few per address): kept
// until it expires; `fresh` drops a refused one and asks again.
export async function residentToken({ fresh = false } = {}) {
  const key = 'fieldreports.resident';
  const kept = fresh ? null : JSON.parse(localStorage.getItem(key) || 'null');
  if (kept && Date.parse(kept.expires_at) > Date.now() + 60_000) return kept.resident_token;
  const issued = await api('/api/v1/residents', { method: 'POST' });
  localStorage.setItem(key, JSON.stringify(issued));
  return issued.resident_token;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code || String(status);
    this.details = body?.error?.details;
  }
}

export async function api(path, { method = 'GET', json, form, headers = {}, token } = {}) {
  const h = { 'Accept-Language': getLang(), 'X-Client-Id': clientId(), ...headers };
  if (token) h['X-Tracking-Token'] = token;
  let body;
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const res = await fetch(path, { method, headers: h, body });
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const query = (params) =>
  new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v != null)).toString();
