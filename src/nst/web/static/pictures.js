// The two drop zones: a photo and a painting, uploaded as soon as they are chosen.

import { api } from "./api.js";
import { $, ROLE_LABEL, setMessage, state } from "./common.js";
import { updateStart } from "./forms.js";
import { setInstantMessage, updateInstant } from "./instant.js";

const dropFor = (role) => $(`#drop-${role}`);

export function showPicture(role, url, meta) {
  const zone = dropFor(role);
  const img = $("img", zone);
  img.src = url;
  img.hidden = false;
  zone.classList.add("filled");
  zone.classList.remove("failed");
  const metaBox = $(".drop-meta", zone);
  metaBox.replaceChildren(...meta.map((text) => Object.assign(document.createElement("span"), { textContent: text })));
}

function clearPicture(role) {
  const zone = dropFor(role);
  const img = $("img", zone);
  img.removeAttribute("src");
  img.hidden = true;
  zone.classList.remove("filled");
  $(".drop-meta", zone).replaceChildren();
}

async function upload(role, file) {
  const ticket = ++state.uploads[role];
  const zone = dropFor(role);
  state.picked[role] = null;
  updateStart();
  setInstantMessage("");
  updateInstant();
  showPicture(role, URL.createObjectURL(file), [ROLE_LABEL[role]]);
  zone.classList.add("uploading");
  setMessage("");
  const form = new FormData();
  form.append("file", file);
  try {
    const image = await api("/api/images", { method: "POST", body: form });
    if (ticket !== state.uploads[role]) return;
    state.picked[role] = { id: image.id, url: image.url };
    showPicture(role, $("img", zone).src, [ROLE_LABEL[role], `${image.width}×${image.height}`]);
  } catch (error) {
    if (ticket !== state.uploads[role]) return;
    clearPicture(role);
    zone.classList.add("failed");
    setMessage(`${ROLE_LABEL[role]}: ${error.message}`, true);
  } finally {
    if (ticket === state.uploads[role]) zone.classList.remove("uploading");
    updateStart();
    updateInstant();
  }
}

export function bindDrops() {
  for (const role of ["content", "style"]) {
    const zone = dropFor(role);
    const input = $("input", zone);
    zone.addEventListener("click", () => input.click());
    input.addEventListener("click", (event) => event.stopPropagation());
    zone.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        input.click();
      }
    });
    input.addEventListener("change", () => {
      if (input.files && input.files[0]) upload(role, input.files[0]);
      input.value = "";
    });
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (event) => {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      const file = event.dataTransfer && event.dataTransfer.files[0];
      if (file) upload(role, file);
    });
  }
  // A file dropped beside the zones must not make the browser leave the page.
  for (const type of ["dragover", "drop"]) document.addEventListener(type, (event) => event.preventDefault());
}
