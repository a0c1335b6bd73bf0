// nst web app: one page over the REST API. Plain JavaScript modules, no build step, no
// third-party code. This one starts the page; the others are its parts:
//
//   common.js    state, formatting, messages          api.js       the REST API and the token
//   engines.js   the engines the page offers          pictures.js  the drop zones and uploads
//   forms.js     the optimisation's settings          instant.js   instant styles
//   jobs.js      the job on show and its progress     gallery.js   every job, newest first
//   anypainting.js  any painting, instantly

import { bindAnyPainting } from "./anypainting.js";
import { adoptTokenFromHash, api, bindToken } from "./api.js";
import { $, setMessage, showCounts, state } from "./common.js";
import { showEngines } from "./engines.js";
import { bindSettings, updateStart } from "./forms.js";
import { refreshGallery } from "./gallery.js";
import { bindInstant } from "./instant.js";
import { bindRun } from "./jobs.js";
import { bindDrops } from "./pictures.js";

async function boot() {
  const info = await api("/api/info");
  state.info = info;
  $("#token-panel").hidden = true;
  $("#create").hidden = false;
  $("#gallery-section").hidden = false;
  showEngines(info);
  showCounts(info.counts);
  updateStart();
  await refreshGallery({ attach: true });
}

function main() {
  adoptTokenFromHash();
  bindToken(boot);
  bindDrops();
  bindSettings();
  bindRun();
  bindInstant();
  bindAnyPainting();
  boot().catch((error) => {
    if (error.status !== 401) setMessage(error.message, true);
  });
}

main();
