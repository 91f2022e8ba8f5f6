// Building the DOM without HTML strings: text always goes in as text nodes, so nothing from the API is parsed as
// markup. The one exception is the message preview, which escapes first (preview.js).

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, props, children) {
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key in el && !(el instanceof SVGElement)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An HTML element: `h("td", {class: "num"}, "42")`. */
export const h = (tag, props, ...children) => build(document.createElement(tag), props, children);

/** An SVG element, with its attributes as given. */
export const s = (tag, attrs, ...children) => build(document.createElementNS(SVG_NS, tag), attrs, children);

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  return build(el, null, children);
}

const number = new Intl.NumberFormat();
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A count for people: `1,234`. */
export const fmtNumber = (n) => number.format(n ?? 0);

/** A time from the API (RFC 3339) in the user's zone, or a dash. */
export const fmtTime = (t) => (t ? dateTime.format(new Date(t)) : "—");

/** Seconds as `2 h 5 min`, `40 s`. */
export function fmtDuration(seconds) {
  if (seconds == null) return "—";
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), sec = seconds % 60;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${sec ? `${sec} s` : ""}`.trim();
  return `${sec} s`;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/** A status badge: the colour comes from `data-status` in the CSS. */
export const badge = (status, props = {}) => h("span", { class: "badge", dataset: { status }, ...props }, status);
