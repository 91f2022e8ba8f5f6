// The native API, with the token the user signed in with. The token stays in this browser: sessionStorage by
// default (gone with the tab), localStorage when the user asks to be remembered.

const KEY = "pregon.token";

/** The current token, if signed in. */
export const token = () => sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);

/** Keep `value` as the token, for this tab or (remember) for this browser. */
export function signIn(value, remember) {
  signOut();
  (remember ? localStorage : sessionStorage).setItem(KEY, value);
}

/** Forget the token everywhere. */
export function signOut() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

/** An error answer of the API (`{"error": {code, message, details}}`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** `fetch` with the bearer token; JSON in and out. Throws ApiError for anything but 2xx. */
export async function api(path, { method = "GET", body, headers = {}, signal, bearer = token() } = {}) {
  const h = new Headers(headers);
  h.set("Authorization", `Bearer ${bearer ?? ""}`);
  h.set("Accept", "application/json");
  if (body != null && !(body instanceof FormData)) {
    h.set("Content-Type", "application/json");
    body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers: h, body, signal });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "network", `Cannot reach Pregon: ${e.message}`);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const e = data?.error;
    throw new ApiError(response.status, e?.code ?? "error", e?.message ?? `${response.status} ${response.statusText}`, e?.details);
  }
  return data;
}

/**
 * Server-sent events read with `fetch`, because `EventSource` cannot send an Authorization header (and the API
 * refuses tokens in query strings). Yields `{event, data}` until the server ends the stream.
 */
export async function* events(path, signal) {
  const response = await fetch(path, {
    headers: { Authorization: `Bearer ${token() ?? ""}`, Accept: "text/event-stream" },
    signal,
  });
  if (!response.ok || !response.body) throw new ApiError(response.status, "error", `events: ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}
