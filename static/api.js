// Calls to the service from the browser: session cookie, CSRF header on writes, errors as ApiError.

import { t } from "./i18n.js";

/** An answer that was not a success, with the API's {"error": {"code", "message"}} when it gave one. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy page or an empty body
  }
  const error = body && body.error;
  if (response.status === 401) {
    return new ApiError(401, "unauthorized", t("Your session has ended."));
  }
  return new ApiError(
    response.status,
    error?.code || `http_${response.status}`,
    error?.message || t("The server answered {status} {reason}.", { status: response.status, reason: response.statusText }),
  );
}

/** Fetch a same-origin URL; JSON bodies are encoded, FormData is sent as multipart. Resolves to the JSON answer. */
export async function request(url, { method = "GET", json, form } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "network", t("The server cannot be reached: check the connection and try again."));
  }
  if (!response.ok) throw await errorFrom(response);
  return response.status === 204 ? null : response.json();
}

export const get = (url) => request(url);
export const post = (url, options = {}) => request(url, { method: "POST", ...options });
