// Sends over time as an inline SVG bar chart, drawn from `GET /v1/campaigns/{id}/timeline`.

import { h, s, fmtNumber } from "./dom.js";

const W = 640, H = 220, LEFT = 44, RIGHT = 12, TOP = 12, BOTTOM = 28;

/** The smallest 1, 2 or 5 × 10^k at or above `n` (at least 1: counts are whole), so the axis reads in round figures. */
function niceStep(n) {
  if (n <= 1) return 1;
  const k = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 5, 10].map((m) => m * k).find((v) => v >= n);
}

/** Fewer buckets than this are padded on both sides, so a short campaign is a bar in context, not a block. */
const MIN_BUCKETS = 24;

function timeLabel(ms, spanMs) {
  const d = new Date(ms);
  const opts = spanMs < 10 * 60_000 ? { timeStyle: "medium" }
    : spanMs < 86_400_000 ? { timeStyle: "short" }
      : { dateStyle: "short", timeStyle: "short" };
  return new Intl.DateTimeFormat(undefined, opts).format(d);
}

const UNITS = [[86_400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]];

/** "per minute", "per 5 seconds". */
export function bucketLabel(seconds) {
  const [size, unit] = UNITS.find(([u]) => seconds % u === 0);
  const n = seconds / size;
  return n === 1 ? `per ${unit}` : `per ${n} ${unit}s`;
}

/**
 * The chart for a timeline answer. Buckets without sends between the start and the end (or now, while running)
 * are drawn as zero, so a pause shows as a gap.
 */
export function drawTimeline(timeline, { running = false } = {}) {
  const step = timeline.bucket_seconds * 1000;
  const sent = new Map(timeline.data.map((p) => [Date.parse(p.at), p.sent]));
  const floor = (ms) => Math.floor(ms / step) * step;
  const times = [...sent.keys()];
  if (timeline.started_at) times.push(floor(Date.parse(timeline.started_at)));
  const end = timeline.finished_at ? Date.parse(timeline.finished_at) : running ? Date.now() : null;
  if (end) times.push(floor(end));
  const wrap = h("figure", { class: "chart", dataset: { total: timeline.total } });
  if (!timeline.data.length) {
    wrap.append(h("p", { class: "empty" }, running ? "Waiting for the first sends…" : "No sends recorded for this campaign."));
    return wrap;
  }
  let first = Math.min(...times), last = Math.max(...times);
  const short = MIN_BUCKETS - ((last - first) / step + 1);
  if (short > 0) {
    first -= Math.floor(short / 2) * step;
    last += Math.ceil(short / 2) * step;
  }
  const buckets = [];
  for (let t = first; t <= last; t += step) buckets.push([t, sent.get(t) ?? 0]);
  const tick = niceStep(Math.max(...buckets.map(([, n]) => n)) / 4);
  const max = tick * 4;
  const plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
  const bw = plotW / buckets.length;
  const y = (n) => TOP + plotH - (n / max) * plotH;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `Messages sent ${bucketLabel(timeline.bucket_seconds)}` });
  for (let i = 0; i <= 4; i++) {
    const v = tick * i;
    svg.append(
      s("line", { x1: LEFT, x2: W - RIGHT, y1: y(v), y2: y(v), class: "grid" }),
      s("text", { x: LEFT - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" }, fmtNumber(v)));
  }
  buckets.forEach(([t, n], i) => {
    if (!n) return;
    const x = LEFT + i * bw + (bw > 4 ? bw * 0.12 : 0);
    const width = Math.max(bw > 4 ? bw * 0.76 : bw, 1);
    svg.append(s("rect", { x, y: y(n), width, height: TOP + plotH - y(n), rx: bw > 6 ? 2 : 0, class: "bar" },
      s("title", null, `${timeLabel(t, last - first)}: ${fmtNumber(n)} sent`)));
  });
  const span = last - first + step;
  const ticks = Math.min(5, buckets.length);
  for (let i = 0; i < ticks; i++) {
    const index = ticks === 1 ? 0 : Math.round((i * (buckets.length - 1)) / (ticks - 1));
    const x = LEFT + index * bw + bw / 2;
    const anchor = i === 0 ? "start" : i === ticks - 1 ? "end" : "middle";
    svg.append(s("text", { x: i === 0 ? LEFT : i === ticks - 1 ? W - RIGHT : x, y: H - 8, class: "axis", "text-anchor": anchor },
      timeLabel(buckets[index][0], span)));
  }
  svg.append(s("line", { x1: LEFT, x2: W - RIGHT, y1: TOP + plotH, y2: TOP + plotH, class: "baseline" }));
  wrap.append(svg, h("figcaption", null,
    h("strong", { class: "chart-total" }, fmtNumber(timeline.total)), ` sent, ${bucketLabel(timeline.bucket_seconds)}`));
  return wrap;
}
