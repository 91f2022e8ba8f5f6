// The message as the recipient sees it: a WhatsApp-like bubble built from the template's components and one
// message's parameters. Text from the API is escaped before WhatsApp's formatting marks become tags, and only that
// escaped result is ever given to innerHTML.

import { h, s } from "./dom.js";

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** `text` with every HTML-special character escaped (and NULs dropped: they mark code blocks below). */
export const escapeHtml = (text) => String(text ?? "").replace(/\0/g, "").replace(/[&<>"']/g, (c) => ENTITIES[c]);

/**
 * A mark pair as WhatsApp reads it: the mark at a word boundary, text that neither starts nor ends with a space,
 * on one line. So `*bold*` is bold, `2*3*4` and `snake_case_name` are not.
 */
const pair = (mark) => new RegExp(`(^|[^\\w${mark}])\\${mark}(?!\\s)([^${mark}\\n]*?[^\\s${mark}])\\${mark}(?![\\w${mark}])`, "gm");
const MARKS = [[pair("*"), "strong"], [pair("_"), "em"], [pair("~"), "s"]];

/** WhatsApp formatting as safe HTML: *bold*, _italic_, ~strike~, ```monospace```, line breaks. */
export function whatsappHtml(text) {
  const code = [];
  // Monospace first: marks inside it stay as they are.
  let html = escapeHtml(text).replace(/```([\s\S]+?)```/g, (_, inner) => `\0${code.push(inner) - 1}\0`);
  for (const [re, tag] of MARKS) html = html.replace(re, `$1<${tag}>$2</${tag}>`);
  html = html.replace(/\0(\d+)\0/g, (_, i) => `<code>${code[Number(i)]}</code>`);
  return html.replace(/\n/g, "<br>");
}

/** `text` with its `{{1}}`/`{{name}}` placeholders replaced, in order of first appearance, by `values`. */
export function fillPlaceholders(text, values = []) {
  const order = [];
  return String(text ?? "").replace(/\{\{\s*([\w]+)\s*\}\}/g, (whole, key) => {
    let index = /^\d+$/.test(key) ? Number(key) - 1 : order.indexOf(key);
    if (index < 0) index = order.push(key) - 1;
    return values[index] ?? whole;
  });
}

/** The sample values of a template (Meta's `example`), used when no message of the campaign is at hand. */
export function sampleParams(template) {
  const part = (type) => template?.components?.find((c) => c.type === type);
  const body = part("BODY")?.example?.body_text?.[0] ?? [];
  const headerText = part("HEADER")?.example?.header_text?.[0];
  return { body, header: headerText ? { text: headerText } : undefined };
}

const MEDIA_LABELS = { IMAGE: "Image", VIDEO: "Video", DOCUMENT: "Document", LOCATION: "Location" };
const BUTTON_ICONS = { QUICK_REPLY: "↩", URL: "↗", PHONE_NUMBER: "✆", COPY_CODE: "⧉" };

function mediaPlaceholder(format, media) {
  const label = MEDIA_LABELS[format] ?? format;
  let where = "";
  try { where = media?.url ? new URL(media.url).pathname.split("/").pop() : ""; } catch { /* not a URL: no name */ }
  // Drawn, never fetched: the recipient's media is on someone else's server.
  return h("div", { class: "wa-media", dataset: { kind: format.toLowerCase() } },
    s("svg", { viewBox: "0 0 24 24", width: "36", height: "36", "aria-hidden": "true" },
      s("rect", { x: "3", y: "5", width: "18", height: "14", rx: "2", fill: "none", stroke: "currentColor", "stroke-width": "1.5" }),
      s("circle", { cx: "9", cy: "10", r: "1.8", fill: "currentColor" }),
      s("path", { d: "M4 18l5-5 3 3 3-4 5 6", fill: "none", stroke: "currentColor", "stroke-width": "1.5" })),
    h("span", null, where ? `${label} · ${where}` : label));
}

/**
 * The bubble for `template` (a Meta-style definition) sent with `params` (`{header, body, buttons}` as the API shows
 * a message's parameters). Without a template, `fallbackText` (the message's rendered text) fills the body.
 */
export function renderPreview(template, params = {}, fallbackText = "") {
  const part = (type) => template?.components?.find((c) => c.type === type);
  const header = part("HEADER"), body = part("BODY"), footer = part("FOOTER"), buttons = part("BUTTONS");
  const bubble = h("div", { class: "wa-bubble" });
  if (header?.format === "TEXT" || (header && !header.format)) {
    bubble.append(h("div", { class: "wa-header" }, fillPlaceholders(header.text, [params.header?.text])));
  } else if (header) {
    bubble.append(mediaPlaceholder(header.format, params.header?.media));
  }
  const text = body ? fillPlaceholders(body.text, params.body) : fallbackText;
  const bodyEl = h("div", { class: "wa-body" });
  bodyEl.innerHTML = whatsappHtml(text);
  bubble.append(bodyEl);
  if (footer?.text) bubble.append(h("div", { class: "wa-footer" }, footer.text));
  const now = new Date();
  bubble.append(h("div", { class: "wa-meta" }, `${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")}`));
  const chat = h("div", { class: "wa-chat" }, bubble);
  if (buttons?.buttons?.length) {
    chat.append(h("div", { class: "wa-buttons" },
      buttons.buttons.map((b) => h("div", { class: "wa-button" },
        h("span", { class: "wa-icon", "aria-hidden": "true" }, BUTTON_ICONS[b.type] ?? "•"), b.text))));
  }
  return chat;
}
