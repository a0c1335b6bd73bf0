// What every module of the page shares: the page's state, element lookup, formatting, messages.
// Every piece of server data is put into the page with textContent or as a URL, never as HTML.

export const $ = (selector, root = document) => root.querySelector(selector);
export const TERMINAL = new Set(["done", "failed", "cancelled"]);
export const ROLE_LABEL = { content: "Photo", style: "Painting" };

export const state = {
  info: null,
  picked: { content: null, style: null },
  uploads: { content: 0, style: 0 }, // a counter per drop zone: only the latest upload counts
  job: null,
  source: null,
  stageUrl: null,
  galleryTimer: null,
  jobs: [],
  instantBusy: false,
  anyBusy: false,
};

// Formatting -------------------------------------------------------------------------------------

export function duration(seconds) {
  if (seconds == null || !isFinite(seconds)) return "";
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export function ago(timestamp) {
  const seconds = Date.now() / 1000 - timestamp;
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(timestamp * 1000).toLocaleDateString();
}

export const number = (x) => (Math.abs(x) >= 1000 || Math.abs(x) < 0.01 ? x.toExponential(2) : x.toPrecision(3));
export const factor = (x) => `${x >= 10 ? x.toFixed(0) : Number(x.toPrecision(2))}×`;
export const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);
export const percent = (x) => `${Math.round(x * 100)}%`;

export function paintingParts(painting) {
  // Bundled cards say "Artist, Title (year)": the title leads, the artist goes beneath.
  const comma = painting.indexOf(", ");
  return comma > 0 ? { title: painting.slice(comma + 2), artist: painting.slice(0, comma) } : { title: painting, artist: "" };
}

export function modelTitle(name, painting) {
  const model = state.info && state.info.models.find((m) => m.name === name);
  return paintingParts(painting || (model && model.painting) || name).title;
}

// The server chip and the messages ----------------------------------------------------------------

export function setServer(text, kind = "") {
  const chip = $("#server");
  chip.textContent = text;
  chip.className = `chip ${kind}`;
}

export function showCounts(counts) {
  if (!state.info) return;
  const running = counts.running || 0;
  const queued = counts.queued || 0;
  const device = state.info.device.toUpperCase();
  if (!running && !queued) setServer(`${device} · idle`);
  else setServer(`${device} · ${running ? "painting" : "idle"}${queued ? `, ${queued} waiting` : ""}`, "busy");
}

export function setMessage(text, isError = false) {
  const box = $("#form-message");
  box.textContent = text;
  box.classList.toggle("error", isError);
}

export function flash(card) {
  card.scrollIntoView({ behavior: "smooth", block: "start" });
  card.classList.remove("flash");
  void card.offsetWidth;
  card.classList.add("flash");
}
