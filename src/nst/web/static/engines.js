// nst's engines, as the page offers them. Each takes what GET /api/info says of it and sets up
// its part of the page (or hides it when this server does not have it):
//
// * optimise: the photo in the style of any painting, by optimisation (Gatys et al.): minutes,
//   the finest picture. The drop zones, the settings and "Paint it" (forms.js); always there.
// * instant: a bundled style model paints the photo in about a second, one model per painting
//   (instant.js); hidden when the server has no models.
// * anypainting, "any painting, instantly" (nst.universal): the photo and the painting, painted
//   in a few seconds with no training per painting (anypainting.js). Its button sits beside
//   "Paint it", its settings above them; hidden when /api/info says the server has no decoder.

import { buildAnyPainting } from "./anypainting.js";
import { applySettingsInfo } from "./forms.js";
import { buildInstant } from "./instant.js";

export const ENGINES = [
  { name: "optimise", show: (info) => applySettingsInfo(info) },
  { name: "instant", show: (info) => buildInstant(info.models || []) },
  { name: "anypainting", show: (info) => buildAnyPainting(info) },
];

export function showEngines(info) {
  for (const engine of ENGINES) engine.show(info);
}
