// The job on show: its progress (streamed as Server-Sent Events), its preview, then its result.

import { api } from "./api.js";
import { $, capital, duration, factor, modelTitle, number, percent, setMessage, state, TERMINAL } from "./common.js";
import { loadIntoForm } from "./forms.js";
import { markCurrentTile, refreshGallery } from "./gallery.js";

export function showJob(job, { scroll = false } = {}) {
  const run = $("#run");
  const same = state.job && state.job.id === job.id;
  state.job = job;
  run.hidden = false;
  if (!same) {
    state.stageUrl = null;
    const stage = $("#stage-image");
    stage.removeAttribute("src");
    $("#stage-placeholder").hidden = false;
    $("#run-content").src = `${job.content_url}/thumbnail`;
    const instant = job.kind === "instant";
    const style = $("#run-style");
    if (instant) style.removeAttribute("src");
    else style.src = `${job.style_urls[0]}/thumbnail`;
    style.hidden = instant;
    const chip = $("#run-model");
    chip.hidden = !instant && job.kind !== "anypainting";
    if (instant) chip.textContent = modelTitle(job.model, job.result && job.result.painting);
    else chip.textContent = job.kind === "anypainting" ? "Any painting, instantly" : "";
  }
  renderJob(job);
  if (!TERMINAL.has(job.status)) follow(job.id);
  else if (state.source) {
    state.source.close();
    state.source = null;
  }
  if (scroll) run.scrollIntoView({ behavior: "smooth", block: "start" });
  markCurrentTile();
}

function setStage(url) {
  if (!url || state.stageUrl === url) return;
  state.stageUrl = url;
  const jobId = state.job && state.job.id;
  // Swap only once loaded, so the picture never blinks.
  const next = new Image();
  next.onload = () => {
    if (state.stageUrl !== url || !state.job || state.job.id !== jobId) return;
    $("#stage-image").src = url;
    $("#stage-placeholder").hidden = true;
  };
  next.src = url;
}

function setBar(fraction, indeterminate = false) {
  const progress = $("#progress");
  progress.classList.toggle("indeterminate", indeterminate);
  $("#bar").style.width = indeterminate ? "" : `${Math.round(fraction * 1000) / 10}%`;
  progress.setAttribute("aria-valuenow", indeterminate ? "0" : String(Math.round(fraction * 100)));
}

function renderJob(job) {
  const status = $("#run-status");
  const title = $("#run-title");
  status.classList.remove("error");
  $("#cancel").hidden = TERMINAL.has(job.status);
  $("#run-rerun").hidden = !TERMINAL.has(job.status);
  $("#download").hidden = job.status !== "done";
  $("#run").dataset.status = job.status;
  const stats = [];
  if (job.status === "queued") {
    title.textContent = "Waiting in the queue";
    status.textContent = job.queue_position > 1 ? `${job.queue_position - 1} painting(s) ahead of this one` : "next in line";
    setBar(0, true);
  } else if (job.status === "running") {
    const p = job.progress;
    title.textContent = "Painting…";
    if (!p) {
      status.textContent = "Starting: reading the pictures and the network…";
      setBar(0, true);
    } else {
      const parts = [`iteration ${p.iteration} of ${p.max_iterations}`];
      if (p.scales > 1) parts.push(`size ${p.scale} of ${p.scales} (${p.size[0]}×${p.size[1]})`);
      parts.push(`loss ${number(p.losses.total)}`);
      if (p.eta_seconds != null && p.iteration > 1) parts.push(`about ${duration(p.eta_seconds)} left`);
      status.textContent = capital(parts.join(" · "));
      setBar(p.fraction);
      setStage(p.preview_url);
    }
  } else if (job.status === "done" && job.kind === "instant") {
    const r = job.result;
    title.textContent = "Your painting";
    status.textContent = `Painted at once in the style of ${r.painting || job.model}`;
    setBar(1);
    setStage(job.result_url);
    setDownload(job);
    stats.push(["Size", `${r.width}×${r.height}`], ["Style", modelTitle(job.model, r.painting)]);
    stats.push(["Strength", percent(job.settings.strength)], ["Time", `${r.elapsed.toFixed(1)} s`]);
    if (job.settings.preserve_color === "luminance") stats.push(["Colours", "the photo's"]);
  } else if (job.status === "done" && job.kind === "anypainting") {
    const r = job.result;
    const s = job.settings;
    title.textContent = "Your painting";
    status.textContent = "Painted at once in the style of your painting";
    setBar(1);
    setStage(job.result_url);
    setDownload(job);
    stats.push(["Size", `${r.width}×${r.height}`], ["Strength", percent(s.strength)]);
    stats.push(["Strokes", factor(s.stroke_scale)], ["Time", `${r.elapsed.toFixed(1)} s`]);
    if (s.preserve_color === "luminance") stats.push(["Colours", "the photo's"]);
  } else if (job.status === "done") {
    const r = job.result;
    title.textContent = "Your painting";
    status.textContent = r.stop_reason ? capital(r.stop_reason) : "Done";
    setBar(1);
    setStage(job.result_url);
    setDownload(job);
    stats.push(["Size", `${r.width}×${r.height}`], ["Iterations", r.iterations], ["Time", duration(r.elapsed)]);
    stats.push(["Content loss", number(r.losses.content)], ["Style loss", number(r.losses.style)]);
  } else if (job.status === "failed") {
    title.textContent = "That did not work";
    status.textContent = job.error || "the job failed";
    status.classList.add("error");
    setBar(0);
  } else if (job.status === "cancelled") {
    title.textContent = "Cancelled";
    status.textContent = "Stopped before the end. Nothing was kept.";
    setBar(0);
  }
  $("#run-stats").replaceChildren(
    ...stats.map(([name, value]) => {
      const item = document.createElement("div");
      item.append(Object.assign(document.createElement("dt"), { textContent: name }));
      item.append(Object.assign(document.createElement("dd"), { textContent: String(value) }));
      return item;
    }),
  );
}

function setDownload(job) {
  const download = $("#download");
  download.href = `${job.result_url}?download=1`;
  download.setAttribute("download", `nst-${job.id.slice(0, 8)}.png`);
}

function follow(jobId) {
  if (state.source && state.source.jobId === jobId) return;
  if (state.source) state.source.close();
  const source = new EventSource(`/api/jobs/${jobId}/events`);
  source.jobId = jobId;
  state.source = source;
  source.addEventListener("job", (event) => {
    const job = JSON.parse(event.data);
    if (state.job && state.job.id === job.id) renderJob(job);
    state.job = state.job && state.job.id === job.id ? job : state.job;
  });
  const finish = () => {
    source.close();
    if (state.source === source) state.source = null;
    if (!$("#form-message").classList.contains("error")) setMessage("");
    refreshGallery();
  };
  source.addEventListener("end", finish);
  source.addEventListener("deleted", () => {
    finish();
    if (state.job && state.job.id === jobId) $("#run").hidden = true;
  });
}

export function bindRun() {
  $("#cancel").addEventListener("click", async () => {
    if (!state.job) return;
    try {
      renderJob(await api(`/api/jobs/${state.job.id}/cancel`, { method: "POST" }));
    } catch (error) {
      $("#run-status").textContent = error.message;
    }
  });
  $("#run-rerun").addEventListener("click", () => state.job && loadIntoForm(state.job));
}
