// Instant styles: a bundled style model paints the photo in about a second; no painting needed.

import { post } from "./api.js";
import { $, duration, flash, paintingParts, percent, ROLE_LABEL, state } from "./common.js";
import { updateStart } from "./forms.js";
import { refreshGallery } from "./gallery.js";
import { showJob } from "./jobs.js";
import { showPicture } from "./pictures.js";

// One button per bundled model; the section is hidden when the server has none.
export function buildInstant(models) {
  $("#instant").hidden = models.length === 0;
  $("#instant-styles").replaceChildren(
    ...models.map((model) => {
      const { title, artist } = paintingParts(model.painting);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "style-choice";
      button.dataset.model = model.name;
      button.title = `${model.painting}: paint the photo in this style at once`;
      button.append(Object.assign(document.createElement("strong"), { textContent: title }));
      button.append(Object.assign(document.createElement("small"), { textContent: artist || model.name }));
      button.addEventListener("click", () => paintInstant(model.name));
      return button;
    }),
  );
  updateInstant();
}

export function setInstantMessage(text, isError = false) {
  const box = $("#instant-message");
  box.textContent = text;
  box.classList.toggle("error", isError);
}

export function updateInstant() {
  const ready = Boolean(state.picked.content) && !state.instantBusy;
  for (const button of document.querySelectorAll(".style-choice")) button.disabled = !ready;
  if (!state.instantBusy && !$("#instant-message").classList.contains("error")) {
    setInstantMessage(state.picked.content ? "" : "Pick a photo above, then a style.");
  }
}

function instantRequest(model) {
  return {
    image_id: state.picked.content.id,
    model,
    size: state.info.instant_size,
    strength: Number($("#instant-strength").value) / 100,
    preserve_color: $("#instant-colour").checked ? "luminance" : "none",
  };
}

async function paintInstant(model) {
  if (!state.picked.content || state.instantBusy) return;
  state.instantBusy = true;
  const button = $(`.style-choice[data-model="${CSS.escape(model)}"]`);
  for (const other of document.querySelectorAll(".style-choice")) other.classList.toggle("chosen", other === button);
  button.classList.add("working");
  setInstantMessage("Painting…");
  updateInstant();
  try {
    const job = await post("/api/instant", instantRequest(model));
    setInstantMessage("");
    showJob(job, { scroll: true });
    refreshGallery();
  } catch (error) {
    if (error.status === 429) setInstantMessage(`Busy painting others. Try again in ${duration(error.retryAfter || 1)}.`, true);
    else setInstantMessage(error.message, true);
  } finally {
    state.instantBusy = false;
    button.classList.remove("working");
    updateInstant();
  }
}

// An instant job's photo and settings back into the form ("Re-run"), ready for another style.
export function loadInstant(job) {
  $("#instant-strength").value = Math.round(job.settings.strength * 100);
  $("#instant-strength-out").textContent = percent(job.settings.strength);
  $("#instant-colour").checked = job.settings.preserve_color === "luminance";
  state.picked.content = { id: job.content_id, url: job.content_url };
  showPicture("content", job.content_url, [ROLE_LABEL.content, "from the gallery"]);
  for (const button of document.querySelectorAll(".style-choice")) {
    button.classList.toggle("chosen", button.dataset.model === job.model);
  }
  updateStart();
  setInstantMessage("");
  updateInstant();
  setInstantMessage("Photo and settings loaded: pick a style.");
  flash($("#create"));
}

export function bindInstant() {
  const strength = $("#instant-strength");
  strength.addEventListener("input", () => { $("#instant-strength-out").textContent = percent(Number(strength.value) / 100); });
}
