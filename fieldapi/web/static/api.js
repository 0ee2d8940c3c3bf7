// The one way the console talks to the server: the public /v1 API with a bearer token.
// A 401 first tries the refresh token; when the session is over, it asks the dispatcher to
// log in again (the page stays as it is, so nothing typed is lost) and then retries.

const STORE = window.sessionStorage;

export class ApiError extends Error {
  constructor(status, body, headers) {
    super((body && body.message) || `The server answered ${status}.`);
    this.status = status;
    this.errors = (body && body.errors) || {};
    this.retryAfter = headers ? Number(headers.get("Retry-After")) || null : null;
  }
}

let askLogin = null; // set by the login module: () => Promise<void>

export function onLoginNeeded(handler) {
  askLogin = handler;
}

export function tokens() {
  const raw = STORE.getItem("fieldapi.tokens");
  return raw ? JSON.parse(raw) : null;
}

export function saveTokens(pair) {
  STORE.setItem("fieldapi.tokens", JSON.stringify({
    access: pair.access_token, refresh: pair.refresh_token, user: pair.user,
  }));
}

export function forgetTokens() {
  STORE.removeItem("fieldapi.tokens");
}

async function send(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, { message: "The server cannot be reached: check the connection and try again." });
  }
  return response;
}

async function parse(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes("json")) {
    if (response.ok) return response.blob();
    throw new ApiError(response.status, null, response.headers);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body, response.headers);
  return body;
}

async function refreshed() {
  const current = tokens();
  if (!current || !current.refresh) return false;
  const response = await send("POST", "/v1/auth/refresh", { refresh_token: current.refresh });
  if (!response.ok) return false;
  const pair = await response.json();
  saveTokens({ ...pair, user: pair.user || current.user });
  return true;
}

export async function api(method, path, body) {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const current = tokens();
    const response = await send(method, path, body, current && current.access);
    if (response.status !== 401 || path.startsWith("/v1/auth/")) return parse(response);
    if (await refreshed()) continue;
    forgetTokens();
    if (!askLogin) return parse(response);
    await askLogin("Your session has ended: log in again to carry on where you were.");
  }
  throw new ApiError(401, { message: "Authentication is required." });
}

// Every page of a list (`{"items", "next_cursor"}`), up to `most` items.
export async function allItems(path, most = 500) {
  const items = [];
  let cursor = null;
  do {
    const joiner = path.includes("?") ? "&" : "?";
    const page = await api("GET", `${path}${joiner}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < most);
  return items;
}
