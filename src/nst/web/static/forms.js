// The optimisation's settings (quality, style strength, size, iterations, colours) and "Paint it".

import { loadAnyPainting, updateAnyPainting } from "./anypainting.js";
import { post } from "./api.js";
import { $, capital, duration, factor, flash, ROLE_LABEL, setMessage, state } from "./common.js";
import { refreshGallery } from "./gallery.js";
import { loadInstant } from "./instant.js";
import { showJob } from "./jobs.js";
import { showPicture } from "./pictures.js";

const COLOUR_LABELS = {
  none: "The painting's colours",
  luminance: "The photo's colours (luminance only)",
  histogram: "The photo's colours (matched palette)",
};

const controls = () => ({
  preset: $("#preset"),
  strength: $("#strength"),
  size: $("#size"),
  sizeNum: $("#size-num"),
  iterations: $("#iterations"),
  iterationsNum: $("#iterations-num"),
  colour: $("#colour"),
});

// The settings a job starts from: its preset's, or nst's defaults.
export function presetSettings(preset) {
  return preset && state.info.presets[preset] ? state.info.presets[preset] : state.info.defaults;
}

const baseSettings = () => presetSettings($("#preset").value);

function link(range, box) {
  range.addEventListener("input", () => { box.value = range.value; });
  box.addEventListener("input", () => {
    if (box.value !== "") range.value = box.value;
  });
  box.addEventListener("change", () => {
    const value = Math.min(Number(box.max), Math.max(Number(box.min), Math.round(Number(box.value) || 0)));
    box.value = value;
    range.value = value;
  });
}

function setPair(range, box, value) {
  range.value = value;
  box.value = value;
}

function presetChanged() {
  const c = controls();
  const preset = c.preset.value;
  const base = baseSettings();
  const custom = !preset;
  c.iterations.disabled = !custom;
  c.iterationsNum.disabled = !custom;
  if (!custom) {
    setPair(c.iterations, c.iterationsNum, Math.min(base.iterations, Number(c.iterations.max)));
    $("#iterations-hint").textContent = "set by the preset; stops early when it stops improving";
    $("#preset-hint").textContent = state.info.preset_summaries[preset] || "";
  } else {
    $("#iterations-hint").textContent = "at most this many at each size; stops early when it stops improving";
    $("#preset-hint").textContent = "nst's defaults, with your number of iterations";
  }
}

export function bindSettings() {
  const c = controls();
  link(c.size, c.sizeNum);
  link(c.iterations, c.iterationsNum);
  c.strength.addEventListener("input", () => { $("#strength-out").textContent = factor(10 ** Number(c.strength.value)); });
  c.preset.addEventListener("change", presetChanged);
  $("#start").addEventListener("click", submit);
}

// The server's limits, defaults, presets and colour modes, into the form.
export function applySettingsInfo(info) {
  const c = controls();
  const maxSize = info.limits.max_size;
  for (const el of [c.size, c.sizeNum]) el.max = maxSize;
  setPair(c.size, c.sizeNum, info.default_size);
  $("#size-hint").textContent =
    info.device === "cpu" ? "on this CPU, 128 px takes about a minute; time grows with the square" : "time grows with the square of the size";
  const maxIterations = Math.min(info.limits.max_iterations, 2000);
  for (const el of [c.iterations, c.iterationsNum]) el.max = maxIterations;
  setPair(c.iterations, c.iterationsNum, Math.min(info.defaults.iterations, maxIterations));

  const presets = Object.keys(info.presets);
  $("#preset-field").hidden = presets.length === 0;
  c.preset.replaceChildren(
    ...presets.map((name) => new Option(capital(name), name)),
    new Option("Custom iterations", ""),
  );
  // Start on the preset that is nst's defaults ("standard"), not on whichever comes first.
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  c.preset.value = presets.find((name) => same(info.presets[name], info.defaults)) ?? presets[0] ?? "";
  presetChanged();

  const modes = info.preserve_color_modes;
  $("#colour-field").hidden = !modes;
  if (modes) {
    c.colour.replaceChildren(...modes.map((mode) => new Option(COLOUR_LABELS[mode] || mode, mode)));
    c.colour.value = info.defaults.preserve_color ?? modes[0];
  }
}

function collectRequest() {
  const c = controls();
  const preset = c.preset.value || null;
  const base = baseSettings();
  const settings = {
    size: Number(c.sizeNum.value),
    style_weight: Number((base.style_weight * 10 ** Number(c.strength.value)).toPrecision(3)),
  };
  if (!preset) settings.iterations = Number(c.iterationsNum.value);
  if (state.info.preserve_color_modes) settings.preserve_color = c.colour.value;
  return {
    content_id: state.picked.content.id,
    style_ids: [state.picked.style.id],
    preset,
    settings,
  };
}

// A job's pictures and settings back into the form ("Re-run").
export function loadIntoForm(job) {
  if (job.kind === "instant") {
    loadInstant(job);
    return;
  }
  if (job.kind === "anypainting") {
    loadAnyPainting(job);
    return;
  }
  const c = controls();
  c.preset.value = job.preset && state.info.presets[job.preset] ? job.preset : "";
  presetChanged();
  const base = baseSettings();
  const strength = Math.log10(job.settings.style_weight / base.style_weight);
  c.strength.value = Math.max(-2, Math.min(2, Math.round(strength * 10) / 10));
  $("#strength-out").textContent = factor(10 ** Number(c.strength.value));
  setPair(c.size, c.sizeNum, job.settings.size);
  if (!job.preset) setPair(c.iterations, c.iterationsNum, job.settings.iterations);
  if (state.info.preserve_color_modes && job.settings.preserve_color) c.colour.value = job.settings.preserve_color;
  state.picked.content = { id: job.content_id, url: job.content_url };
  state.picked.style = { id: job.style_ids[0], url: job.style_urls[0] };
  showPicture("content", job.content_url, [ROLE_LABEL.content, "from the gallery"]);
  showPicture("style", job.style_urls[0], [ROLE_LABEL.style, "from the gallery"]);
  updateStart();
  setMessage("Settings loaded: change what you like and paint again.");
  flash($("#create"));
}

// "Paint it" and, beside it, "Any painting, instantly": both need the two pictures.
export function updateStart() {
  updateAnyPainting();
  const ready = state.picked.content && state.picked.style;
  $("#start").disabled = !ready;
  if (!ready && !$("#form-message").classList.contains("error")) {
    let text = state.picked.content || state.picked.style ? "Now the other picture." : "Pick a photo and a painting to start.";
    if (state.picked.content && !state.picked.style && !$("#instant").hidden) text = "Now a painting, or an instant style above.";
    setMessage(text);
  } else if (ready && !$("#form-message").classList.contains("error")) {
    setMessage("Ready.");
  }
}

async function submit() {
  const button = $("#start");
  button.disabled = true;
  setMessage("Sending…");
  try {
    const job = await post("/api/jobs", collectRequest());
    setMessage(job.status === "queued" && job.queue_position > 1 ? `Queued: ${job.queue_position - 1} ahead of you.` : "Started.");
    showJob(job, { scroll: true });
    refreshGallery();
  } catch (error) {
    if (error.status === 429) setMessage(`The queue is full. Try again in ${duration(error.retryAfter || 10)}.`, true);
    else setMessage(error.message, true);
  } finally {
    button.disabled = !(state.picked.content && state.picked.style);
  }
}
