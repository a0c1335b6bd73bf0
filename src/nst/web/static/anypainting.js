// Any painting, instantly (nst.universal): the photo and the painting above, painted in a few
// seconds with no training per painting. Its button sits beside "Paint it", its settings in the
// box above them; both are hidden when the server has no decoder (GET /api/info: anypainting).

import { post } from "./api.js";
import { $, duration, factor, flash, percent, ROLE_LABEL, state } from "./common.js";
import { updateStart } from "./forms.js";
import { refreshGallery } from "./gallery.js";
import { showJob } from "./jobs.js";
import { showPicture } from "./pictures.js";

// The stroke scale's slider is its base-2 logarithm: -2..2 is a quarter to four times.
const strokeScale = () => Number((2 ** Number($("#any-stroke").value)).toPrecision(3));

export function buildAnyPainting(info) {
  const offered = Boolean(info.anypainting);
  $("#anypainting").hidden = !offered;
  $("#paint-any").hidden = !offered;
  const [low, high] = info.stroke_scales || [0.25, 4];
  $("#any-stroke").min = Math.log2(low);
  $("#any-stroke").max = Math.log2(high);
  updateAnyPainting();
}

export function setAnyMessage(text, isError = false) {
  const box = $("#any-message");
  box.textContent = text;
  box.classList.toggle("error", isError);
}

export function updateAnyPainting() {
  const button = $("#paint-any");
  if (!button) return;
  const ready = Boolean(state.picked.content && state.picked.style) && !state.anyBusy;
  button.disabled = !ready;
  if (!state.anyBusy && !$("#any-message").classList.contains("error")) {
    setAnyMessage(ready ? "" : "Pick a photo and a painting above.");
  }
}

function anyRequest() {
  return {
    image_id: state.picked.content.id,
    painting_id: state.picked.style.id,
    size: state.info.instant_size,
    strength: Number($("#any-strength").value) / 100,
    preserve_color: $("#any-colour").checked ? "luminance" : "none",
    stroke_scale: strokeScale(),
  };
}

async function paintAny() {
  if (!state.picked.content || !state.picked.style || state.anyBusy) return;
  state.anyBusy = true;
  const button = $("#paint-any");
  button.classList.add("working");
  setAnyMessage("Painting… (a few seconds)");
  updateAnyPainting();
  try {
    const job = await post("/api/anypainting", anyRequest());
    setAnyMessage("");
    showJob(job, { scroll: true });
    refreshGallery();
  } catch (error) {
    if (error.status === 429) setAnyMessage(`Busy painting others. Try again in ${duration(error.retryAfter || 1)}.`, true);
    else setAnyMessage(error.message, true);
  } finally {
    state.anyBusy = false;
    button.classList.remove("working");
    updateAnyPainting();
  }
}

function showStroke() {
  $("#any-stroke-out").textContent = factor(strokeScale());
}

// An any-painting job's pictures and settings back into the form ("Re-run").
export function loadAnyPainting(job) {
  const s = job.settings;
  $("#any-strength").value = Math.round(s.strength * 100);
  $("#any-strength-out").textContent = percent(s.strength);
  $("#any-stroke").value = Math.log2(s.stroke_scale);
  showStroke();
  $("#any-colour").checked = s.preserve_color === "luminance";
  state.picked.content = { id: job.content_id, url: job.content_url };
  state.picked.style = { id: job.style_ids[0], url: job.style_urls[0] };
  showPicture("content", job.content_url, [ROLE_LABEL.content, "from the gallery"]);
  showPicture("style", job.style_urls[0], [ROLE_LABEL.style, "from the gallery"]);
  setAnyMessage("");
  updateStart();
  setAnyMessage("Pictures and settings loaded: change what you like and paint again.");
  flash($("#create"));
}

export function bindAnyPainting() {
  const strength = $("#any-strength");
  strength.addEventListener("input", () => { $("#any-strength-out").textContent = percent(Number(strength.value) / 100); });
  $("#any-stroke").addEventListener("input", showStroke);
  $("#paint-any").addEventListener("click", paintAny);
}
