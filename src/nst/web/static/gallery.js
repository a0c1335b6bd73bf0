// The gallery: every job, newest first, kept fresh while any is pending.

import { api } from "./api.js";
import { $, ago, capital, duration, factor, modelTitle, percent, setMessage, showCounts, state, TERMINAL } from "./common.js";
import { loadIntoForm, presetSettings } from "./forms.js";
import { showJob } from "./jobs.js";

function summary(job) {
  const s = job.settings;
  if (job.kind === "instant") {
    const parts = [job.result ? `${job.result.width}×${job.result.height}` : `${s.size} px`];
    parts.push(modelTitle(job.model, job.result && job.result.painting), `strength ${percent(s.strength)}`);
    if (s.preserve_color === "luminance") parts.push("photo's colours");
    return parts.join(" · ");
  }
  if (job.kind === "anypainting") {
    const parts = [job.result ? `${job.result.width}×${job.result.height}` : `${s.size} px`];
    parts.push("any painting", `strength ${percent(s.strength)}`);
    if (s.stroke_scale !== 1) parts.push(`strokes ${factor(s.stroke_scale)}`);
    if (s.preserve_color === "luminance") parts.push("photo's colours");
    return parts.join(" · ");
  }
  const base = presetSettings(job.preset);
  const parts = [job.result ? `${job.result.width}×${job.result.height}` : `${s.size} px`];
  parts.push(`strength ${factor(s.style_weight / base.style_weight)}`);
  parts.push(job.preset ? capital(job.preset) : `${s.iterations} iterations`);
  if (s.preserve_color && s.preserve_color !== "none") parts.push("photo's colours");
  return parts.join(" · ");
}

function tile(job) {
  const node = $("#card-template").content.firstElementChild.cloneNode(true);
  node.dataset.id = job.id;
  node.dataset.status = job.status;
  const image = $(".tile-image img", node);
  image.src = job.result_url || `${job.content_url}/thumbnail`;
  image.alt = job.status === "done" ? "a finished painting" : "the photo of a job that is not done";
  if (job.status !== "done") image.style.opacity = "0.55";
  const instant = job.kind === "instant";
  const quick = instant || job.kind === "anypainting"; // painted at once, in seconds
  const badge = $(".badge", node);
  const label = { instant: "instant", anypainting: "any painting" }[job.kind] || "";
  badge.textContent = job.status === "done" ? label : job.status;
  badge.className = `badge ${quick ? job.kind : job.status}`;
  const inputs = node.querySelectorAll(".tile-inputs img");
  inputs[0].src = `${job.content_url}/thumbnail`;
  if (instant) inputs[1].remove();
  else inputs[1].src = `${job.style_urls[0]}/thumbnail`;
  $(".tile-settings", node).textContent = summary(job);
  const seconds = job.result && (quick ? `${job.result.elapsed.toFixed(1)} s` : duration(job.result.elapsed));
  const took = job.result ? ` · took ${seconds}` : "";
  $(".tile-when", node).textContent = `${ago(job.created)}${took}`;
  $(".tile-image", node).addEventListener("click", () => showJob(job, { scroll: true }));
  $(".rerun", node).addEventListener("click", () => loadIntoForm(job));
  const remove = $(".delete", node);
  remove.addEventListener("click", async () => {
    // Two clicks, no dialog: the first arms the button for a few seconds.
    if (!remove.classList.contains("confirm")) {
      remove.classList.add("confirm");
      remove.textContent = "Sure?";
      setTimeout(() => {
        remove.classList.remove("confirm");
        remove.textContent = "Delete";
      }, 3000);
      return;
    }
    remove.disabled = true;
    try {
      await api(`/api/jobs/${job.id}`, { method: "DELETE" });
      if (state.job && state.job.id === job.id) {
        $("#run").hidden = true;
        state.job = null;
      }
    } catch (error) {
      if (error.status !== 404) setMessage(error.message, true);
    }
    refreshGallery();
  });
  return node;
}

export function markCurrentTile() {
  for (const node of document.querySelectorAll(".tile")) {
    node.classList.toggle("current", Boolean(state.job && node.dataset.id === state.job.id));
  }
}

// attach: show the running (else the first queued) job when none is on show (a reload).
export async function refreshGallery({ attach = false } = {}) {
  clearTimeout(state.galleryTimer);
  let data;
  try {
    data = await api("/api/jobs?limit=60");
  } catch (error) {
    state.galleryTimer = setTimeout(refreshGallery, 10000);
    return;
  }
  state.jobs = data.jobs;
  $("#gallery").replaceChildren(...data.jobs.map(tile));
  $("#gallery-empty").hidden = data.jobs.length > 0;
  const done = data.counts.done || 0;
  $("#gallery-count").textContent = data.jobs.length ? `${done} finished, ${data.jobs.length} in all` : "";
  showCounts(data.counts);
  markCurrentTile();
  if (attach && !state.job) {
    const active = data.jobs.find((j) => j.status === "running") || data.jobs.find((j) => j.status === "queued");
    if (active) showJob(active);
  }
  // Other tabs and API clients add jobs too: keep the gallery fresh while anything is pending.
  const pending = data.jobs.some((j) => !TERMINAL.has(j.status));
  state.galleryTimer = setTimeout(refreshGallery, pending ? 4000 : 30000);
}
