// nst web app: one page over the REST API. Plain JavaScript, no build step, no third-party code.
// Every piece of server data is put into the page with textContent or as a URL, never as HTML.
"use strict";

(() => {
  const $ = (selector, root = document) => root.querySelector(selector);
  const TERMINAL = new Set(["done", "failed", "cancelled"]);
  const COLOUR_LABELS = {
    none: "The painting's colours",
    luminance: "The photo's colours (luminance only)",
    histogram: "The photo's colours (matched palette)",
  };
  const ROLE_LABEL = { content: "Photo", style: "Painting" };

  const state = {
    info: null,
    picked: { content: null, style: null },
    uploads: { content: 0, style: 0 }, // a counter per drop zone: only the latest upload counts
    job: null,
    source: null,
    stageUrl: null,
    galleryTimer: null,
    jobs: [],
    instantBusy: false,
  };

  // API ----------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message, retryAfter) {
      super(message);
      this.status = status;
      this.retryAfter = retryAfter;
    }
  }

  async function api(path, options = {}) {
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

  // Token ---------------------------------------------------------------------------------------

  function setToken(token) {
    // A cookie rather than a header so that <img> and EventSource requests carry it too.
    document.cookie = `nst_token=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
  }

  function adoptTokenFromHash() {
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

  function bindToken() {
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

  // Formatting -----------------------------------------------------------------------------------

  function duration(seconds) {
    if (seconds == null || !isFinite(seconds)) return "";
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return `${seconds} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
    return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  }

  function ago(timestamp) {
    const seconds = Date.now() / 1000 - timestamp;
    if (seconds < 45) return "just now";
    if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
    if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
    return new Date(timestamp * 1000).toLocaleDateString();
  }

  const number = (x) => (Math.abs(x) >= 1000 || Math.abs(x) < 0.01 ? x.toExponential(2) : x.toPrecision(3));
  const factor = (x) => `${x >= 10 ? x.toFixed(0) : Number(x.toPrecision(2))}×`;
  const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);
  const percent = (x) => `${Math.round(x * 100)}%`;

  function paintingParts(painting) {
    // Bundled cards say "Artist, Title (year)": the title leads, the artist goes beneath.
    const comma = painting.indexOf(", ");
    return comma > 0 ? { title: painting.slice(comma + 2), artist: painting.slice(0, comma) } : { title: painting, artist: "" };
  }

  function modelTitle(name, painting) {
    const model = state.info && state.info.models.find((m) => m.name === name);
    return paintingParts(painting || (model && model.painting) || name).title;
  }

  function setServer(text, kind = "") {
    const chip = $("#server");
    chip.textContent = text;
    chip.className = `chip ${kind}`;
  }

  function showCounts(counts) {
    if (!state.info) return;
    const running = counts.running || 0;
    const queued = counts.queued || 0;
    const device = state.info.device.toUpperCase();
    if (!running && !queued) setServer(`${device} · idle`);
    else setServer(`${device} · ${running ? "painting" : "idle"}${queued ? `, ${queued} waiting` : ""}`, "busy");
  }

  // Pictures ------------------------------------------------------------------------------------

  const dropFor = (role) => $(`#drop-${role}`);

  function showPicture(role, url, meta) {
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

  function bindDrops() {
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

  // Settings ------------------------------------------------------------------------------------

  const controls = () => ({
    preset: $("#preset"),
    strength: $("#strength"),
    size: $("#size"),
    sizeNum: $("#size-num"),
    iterations: $("#iterations"),
    iterationsNum: $("#iterations-num"),
    colour: $("#colour"),
  });

  function baseSettings() {
    const preset = $("#preset").value;
    return preset && state.info.presets[preset] ? state.info.presets[preset] : state.info.defaults;
  }

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

  function bindSettings() {
    const c = controls();
    link(c.size, c.sizeNum);
    link(c.iterations, c.iterationsNum);
    c.strength.addEventListener("input", () => { $("#strength-out").textContent = factor(10 ** Number(c.strength.value)); });
    c.preset.addEventListener("change", presetChanged);
    $("#start").addEventListener("click", submit);
  }

  function applyInfo(info) {
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

    buildInstant(info.models || []);

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

  function loadIntoForm(job) {
    if (job.kind === "instant") {
      loadInstant(job);
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

  function flash(card) {
    card.scrollIntoView({ behavior: "smooth", block: "start" });
    card.classList.remove("flash");
    void card.offsetWidth;
    card.classList.add("flash");
  }

  function setMessage(text, isError = false) {
    const box = $("#form-message");
    box.textContent = text;
    box.classList.toggle("error", isError);
  }

  function updateStart() {
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
      const job = await api("/api/jobs", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(collectRequest()),
      });
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

  // Instant styles -------------------------------------------------------------------------------

  function buildInstant(models) {
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

  function setInstantMessage(text, isError = false) {
    const box = $("#instant-message");
    box.textContent = text;
    box.classList.toggle("error", isError);
  }

  function updateInstant() {
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
      const job = await api("/api/instant", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(instantRequest(model)),
      });
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

  function loadInstant(job) {
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

  function bindInstant() {
    const strength = $("#instant-strength");
    strength.addEventListener("input", () => { $("#instant-strength-out").textContent = percent(Number(strength.value) / 100); });
  }

  // The running job ----------------------------------------------------------------------------

  function showJob(job, { scroll = false } = {}) {
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
      chip.hidden = !instant;
      chip.textContent = instant ? modelTitle(job.model, job.result && job.result.painting) : "";
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

  function bindRun() {
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

  // Gallery -------------------------------------------------------------------------------------

  function summary(job) {
    const s = job.settings;
    if (job.kind === "instant") {
      const parts = [job.result ? `${job.result.width}×${job.result.height}` : `${s.size} px`];
      parts.push(modelTitle(job.model, job.result && job.result.painting), `strength ${percent(s.strength)}`);
      if (s.preserve_color === "luminance") parts.push("photo's colours");
      return parts.join(" · ");
    }
    const base = job.preset && state.info.presets[job.preset] ? state.info.presets[job.preset] : state.info.defaults;
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
    const badge = $(".badge", node);
    badge.textContent = job.status === "done" ? (instant ? "instant" : "") : job.status;
    badge.className = `badge ${instant ? "instant" : job.status}`;
    const inputs = node.querySelectorAll(".tile-inputs img");
    inputs[0].src = `${job.content_url}/thumbnail`;
    if (instant) inputs[1].remove();
    else inputs[1].src = `${job.style_urls[0]}/thumbnail`;
    $(".tile-settings", node).textContent = summary(job);
    const seconds = job.result && (instant ? `${job.result.elapsed.toFixed(1)} s` : duration(job.result.elapsed));
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

  function markCurrentTile() {
    for (const node of document.querySelectorAll(".tile")) {
      node.classList.toggle("current", Boolean(state.job && node.dataset.id === state.job.id));
    }
  }

  async function refreshGallery({ attach = false } = {}) {
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

  // Start ---------------------------------------------------------------------------------------

  async function boot() {
    const info = await api("/api/info");
    state.info = info;
    $("#token-panel").hidden = true;
    $("#create").hidden = false;
    $("#gallery-section").hidden = false;
    applyInfo(info);
    showCounts(info.counts);
    updateStart();
    await refreshGallery({ attach: true });
  }

  function main() {
    adoptTokenFromHash();
    bindToken();
    bindDrops();
    bindSettings();
    bindRun();
    bindInstant();
    boot().catch((error) => {
      if (error.status !== 401) setMessage(error.message, true);
    });
  }

  main();
})();
