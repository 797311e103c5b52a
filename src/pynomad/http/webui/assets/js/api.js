// The agent's /v1 API: requests with the signed-in token, blocking queries for live pages.

const TOKEN_KEY = "nomadTokenSecret";

export const token = {
  get: () => localStorage.getItem(TOKEN_KEY) || "",
  set: (secret) => {
    if (secret) localStorage.setItem(TOKEN_KEY, secret);
    else localStorage.removeItem(TOKEN_KEY);
    window.dispatchEvent(new CustomEvent("nomad:token"));
  },
};

export class ApiError extends Error {
  constructor(status, message, path) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.path = path;
  }
  get forbidden() { return this.status === 403; }
  get notFound() { return this.status === 404; }
}

function headers(extra = {}) {
  const out = { ...extra };
  const secret = token.get();
  if (secret) out["X-Nomad-Token"] = secret;
  return out;
}

export function url(path, query = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}${path.includes("?") ? "&" : "?"}${qs}` : path;
}

// One request; resolves to {data, index} (data is parsed JSON, or text when `text`).
export async function request(method, path, body, { signal, text = false } = {}) {
  const init = { method, headers: headers(), signal };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const resp = await fetch(path, init);
  const raw = await resp.text();
  if (!resp.ok) throw new ApiError(resp.status, raw.trim() || resp.statusText, path);
  const index = Number(resp.headers.get("X-Nomad-Index") || 0);
  if (text) return { data: raw, index };
  return { data: raw ? JSON.parse(raw) : null, index };
}

export const get = async (path, opts) => (await request("GET", path, undefined, opts)).data;
export const put = async (path, body, opts) => (await request("PUT", path, body ?? {}, opts)).data;
export const post = async (path, body, opts) => (await request("POST", path, body ?? {}, opts)).data;
export const del = async (path, opts) => (await request("DELETE", path, undefined, opts)).data;

const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
});

// Keep `path` live: call onData(data) now and after every change, using Nomad's blocking
// queries (?index=N waits until the index passes N). Stops when `signal` aborts. onError
// gets each failure (the loop retries after a pause, unless onError returns false).
export function watch(path, onData, { signal, onError, wait = "60s" } = {}) {
  let index = 0;
  (async () => {
    while (!signal?.aborted) {
      try {
        const q = index ? { index, wait } : {};
        const resp = await request("GET", url(path, q), undefined, { signal });
        if (signal?.aborted) return;
        if (!index || resp.index !== index) onData(resp.data, resp.index);
        // an index that went backwards (a restored snapshot) starts over
        index = resp.index < index ? 0 : resp.index || 0;
        if (!resp.index) await sleep(2000, signal);
      } catch (err) {
        if (signal?.aborted || err.name === "AbortError") return;
        if (onError && onError(err) === false) return;
        await sleep(3000, signal);
      }
    }
  })();
}

// Poll `path` every `ms` (for endpoints without blocking queries: stats, members).
export function poll(path, onData, { signal, onError, ms = 3000 } = {}) {
  (async () => {
    while (!signal?.aborted) {
      try {
        const data = await get(path, { signal });
        if (!signal?.aborted) onData(data);
      } catch (err) {
        if (signal?.aborted || err.name === "AbortError") return;
        if (onError && onError(err) === false) return;
      }
      await sleep(ms, signal);
    }
  })();
}

// Stream a plain-text response (logs with follow) chunk by chunk into onText.
export async function streamText(path, onText, { signal } = {}) {
  const resp = await fetch(path, { headers: headers(), signal });
  if (!resp.ok) throw new ApiError(resp.status, (await resp.text()).trim(), path);
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    onText(decoder.decode(value, { stream: true }));
  }
}

// A job's API path: /v1/job/<id>/<rest>?namespace=<ns>.
export function jobPath(job, rest = "", query = {}) {
  const base = `/v1/job/${encodeURIComponent(job.ID)}${rest ? `/${rest}` : ""}`;
  return url(base, { namespace: job.Namespace, ...query });
}

// watch() for a page: resolves once the first data is drawn (rejects on a first failure,
// which the router shows); later failures retry quietly until the page is left.
export function live(ctx, path, onData, opts = {}) {
  return new Promise((resolve, reject) => {
    let first = true;
    watch(path, (data, index) => {
      try {
        onData(data, index);
      } catch (err) {
        if (first) { first = false; reject(err); return; }
        throw err;
      }
      if (first) { first = false; resolve(); }
    }, { ...opts, signal: ctx.signal, onError: (err) => {
      if (first) { first = false; reject(err); return false; }
      return opts.onError ? opts.onError(err) : true;
    } });
  });
}
