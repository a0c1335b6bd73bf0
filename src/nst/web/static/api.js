// The REST API, and the access token that it may need.

import { $, setServer } from "./common.js";

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { credentials: "same-origin", ...options });
  } catch (error) {
    setServer("server unreachable", "down");
    throw new ApiError(0, "the server cannot be reached");
  }
  if (response.status === 401) {
    showTokenPanel();
    throw new ApiError(401, "this server needs a token");
  }
  if (!response.ok) {
    let message = response.statusText || `error ${response.status}`;
    try {
      const body = await response.json();
      if (typeof body.detail === "string") message = body.detail;
      else if (Array.isArray(body.detail) && body.detail.length) message = body.detail[0].msg;
    } catch (_) { /* not JSON: keep the status text */ }
    throw new ApiError(response.status, message, Number(response.headers.get("Retry-After")) || null);
  }
  return response.status === 204 ? null : response.json();
}

// POST a JSON body.
export const post = (path, body) =>
  api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

// Token ------------------------------------------------------------------------------------------

function setToken(token) {
  // A cookie rather than a header so that <img> and EventSource requests carry it too.
  document.cookie = `nst_token=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
}

export function adoptTokenFromHash() {
  // http://host:8000/#token=... : the fragment never reaches the server or its logs.
  const match = location.hash.match(/[#&]token=([^&]+)/);
  if (match) {
    setToken(decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function showTokenPanel() {
  $("#token-panel").hidden = false;
  $("#create").hidden = true;
  $("#gallery-section").hidden = true;
  $("#run").hidden = true;
  setServer("locked", "down");
  $("#token-input").focus();
}

// The token form: `boot` starts the page again once a token is given.
export function bindToken(boot) {
  $("#token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    setToken($("#token-input").value.trim());
    $("#token-error").textContent = "";
    try {
      await boot();
    } catch (error) {
      $("#token-error").textContent = error.status === 401 ? "That token is not right." : error.message;
    }
  });
}
