// The four screens. Each `render(main, ctx)` fills `main`; `ctx.signal` aborts its polling when the user leaves.

import { api, events, signIn, token, ApiError } from "./api.js";
import { h, fill, badge, fmtNumber, fmtTime, fmtDuration, sleep } from "./dom.js";
import { renderPreview, sampleParams } from "./preview.js";
import { drawTimeline } from "./chart.js";

const OPEN = ["ingesting", "scheduled", "running", "paused"];
const DONE_STATUSES = ["sent", "delivered", "read", "failed", "cancelled", "suppressed"];

/** A message box for an error; `ApiError`s show the server's own message. */
const errorBox = (e) => h("div", { class: "alert", role: "alert" }, e instanceof ApiError ? e.message : String(e?.message ?? e));

const pageHead = (title, ...actions) => h("header", { class: "page-head" }, h("h1", null, title), h("div", { class: "actions" }, actions));

let accountsCache = null;
/** The app's accounts (cached for the session: they change rarely and only name things here). */
async function accounts(signal) {
  accountsCache ??= api("/v1/accounts", { signal }).then((r) => r.data).catch((e) => { accountsCache = null; throw e; });
  return accountsCache;
}

// ---- sign in -------------------------------------------------------------------------------------------------------

/** The token form. `notice` explains why the user is here (a session that ended). */
export function signInView(main, { notice, onSignedIn }) {
  const input = h("input", { id: "token", type: "password", required: true, autocomplete: "off", spellcheck: false, placeholder: "pgn_…" });
  const remember = h("input", { id: "remember", type: "checkbox" });
  const error = h("p", { id: "sign-in-error", class: "form-error", role: "alert" }, notice ?? "");
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", { id: "sign-in", class: "card sign-in" },
    h("div", { class: "brand big" }, h("img", { src: "/ui/favicon.svg", alt: "", width: 36, height: 36 }), h("span", null, "Pregon")),
    h("p", { class: "muted" }, "Sign in with your app's API token."),
    h("label", { for: "token" }, "API token"), input,
    h("label", { class: "check" }, remember, " Remember me on this device"),
    error, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = "";
    const value = input.value.trim();
    try {
      await api("/v1/accounts", { bearer: value });
      signIn(value, remember.checked);
      accountsCache = null;
      onSignedIn();
    } catch (e) {
      error.textContent = e instanceof ApiError ? e.message : String(e);
      button.disabled = false;
    }
  });
  fill(main, h("div", { class: "center" }, form));
  input.focus();
}

// ---- campaigns list ------------------------------------------------------------------------------------------------

/** Segments of a campaign's progress bar, by message status. */
function progressBar(counts) {
  const total = counts.accepted || 1;
  const part = (name, n) => {
    const el = h("span", { class: `seg ${name}`, title: `${name}: ${fmtNumber(n)}` });
    el.style.width = `${(100 * n) / total}%`;
    return el;
  };
  return h("div", { class: "progress", role: "img", "aria-label": `${fmtNumber(counts.read + counts.delivered + counts.sent)} of ${fmtNumber(counts.accepted)} sent` },
    part("read", counts.read), part("delivered", counts.delivered), part("sent", counts.sent),
    part("failed", counts.failed), part("cancelled", counts.cancelled + counts.suppressed),
    part("sending", counts.queued + counts.sending));
}

const sentOf = (c) => c.sent + c.delivered + c.read;

function campaignRow(c, accountNames) {
  return h("tr", { dataset: { id: c.id } },
    h("td", null, h("a", { href: `#/campaigns/${c.id}`, class: "strong" }, c.name),
      h("div", { class: "muted small" }, accountNames.get(c.account) ?? c.account)),
    h("td", null, badge(c.status)),
    h("td", { class: "wide" }, progressBar(c.counts),
      h("div", { class: "muted small" }, `${fmtNumber(sentOf(c.counts))} of ${fmtNumber(c.counts.accepted)} sent · ${fmtNumber(c.counts.failed)} failed · ${fmtNumber(c.counts.rejected)} rejected rows`)),
    h("td", { class: "muted small" }, fmtTime(c.scheduled_at ?? c.created_at)));
}

/** Every campaign, newest first, refreshed while any is still open. */
export async function listView(main, { signal }) {
  const body = h("tbody");
  const more = h("button", { type: "button", id: "load-more", class: "secondary", hidden: true }, "Load more");
  const status = h("div");
  fill(main,
    pageHead("Campaigns", h("a", { href: "#/campaigns/new", class: "button primary" }, "New campaign")),
    status,
    h("div", { class: "card flush" }, h("table", { id: "campaigns", class: "table" },
      h("thead", null, h("tr", null, h("th", null, "Campaign"), h("th", null, "Status"), h("th", null, "Progress"), h("th", null, "Starts"))),
      body)),
    h("div", { class: "more" }, more));
  let names = new Map();
  let pages = 1;
  async function load() {
    const list = [];
    let cursor = null;
    for (let i = 0; i < pages; i++) {
      const page = await api(`/v1/campaigns?limit=25${cursor ? `&cursor=${cursor}` : ""}`, { signal });
      list.push(...page.data);
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    names = new Map((await accounts(signal)).map((a) => [a.id, a.name]));
    fill(body, list.length ? list.map((c) => campaignRow(c, names))
      : h("tr", null, h("td", { colSpan: 4, class: "empty" }, "No campaigns yet. ", h("a", { href: "#/campaigns/new" }, "Upload a file"), " to start one.")));
    more.hidden = !cursor;
    return list.some((c) => OPEN.includes(c.status));
  }
  more.addEventListener("click", () => { pages += 1; load().catch((e) => fill(status, errorBox(e))); });
  for (;;) {
    let open = false;
    try {
      open = await load();
      fill(status);
    } catch (e) {
      if (signal.aborted) return;
      if (e.status === 401) throw e;
      fill(status, errorBox(e));
    }
    await sleep(open ? 3000 : 15000, signal);
    if (signal.aborted) return;
  }
}

// ---- one campaign --------------------------------------------------------------------------------------------------

const COUNT_CARDS = [
  ["rows", "Rows"], ["accepted", "Accepted"], ["rejected", "Rejected"], ["pending", "Pending"], ["queued", "Queued"],
  ["sending", "Sending"], ["sent", "Sent"], ["delivered", "Delivered"], ["read", "Read"], ["failed", "Failed"],
  ["cancelled", "Cancelled"], ["suppressed", "Opted out"],
];

/** The campaign page: counts, chart, preview, rejected rows and the controls, live while it runs. */
export async function campaignView(main, { signal, id }) {
  let campaign = await api(`/v1/campaigns/${id}`, { signal });
  const title = h("h1", null);
  const status = badge("", { id: "campaign-status" });
  const notice = h("div");
  const meta = h("dl", { class: "meta" });
  const cards = new Map(COUNT_CARDS.map(([key]) => [key, h("span", { class: "value", dataset: { count: key } }, "0")]));
  const progress = h("div");
  const chart = h("div", { id: "timeline" }, h("p", { class: "empty" }, "Loading…"));
  const preview = h("div", { id: "preview", class: "phone" }, h("p", { class: "empty" }, "Loading…"));
  const rejections = h("div", { id: "rejections" });
  const control = (name, label, cls) => h("button", { type: "button", id: name, class: cls, hidden: true, onclick: () => act(name) }, label);
  const buttons = { pause: control("pause", "Pause", "secondary"), resume: control("resume", "Resume", "primary"), cancel: control("cancel", "Cancel", "danger") };

  fill(main,
    h("nav", { class: "crumbs" }, h("a", { href: "#/campaigns" }, "Campaigns"), " / ", h("span", { id: "crumb" })),
    h("header", { class: "page-head" }, h("div", { class: "title" }, title, status), h("div", { class: "actions" }, Object.values(buttons))),
    notice,
    h("section", { class: "card" }, progress, meta),
    h("section", { class: "counts" }, COUNT_CARDS.map(([key, label]) =>
      h("div", { class: `count ${key}` }, h("span", { class: "label" }, label), cards.get(key)))),
    h("div", { class: "columns" },
      h("section", { class: "card" }, h("h2", null, "Sends over time"), chart),
      h("section", { class: "card" }, h("h2", null, "Message preview"), preview)),
    h("section", { class: "card flush" }, h("h2", { class: "pad" }, "Rejected rows"), rejections));

  async function act(action) {
    if (action === "cancel" && !confirm("Cancel this campaign? Messages not yet sent will not be sent.")) return;
    Object.values(buttons).forEach((b) => { b.disabled = true; });
    try {
      update(await api(`/v1/campaigns/${id}/${action}`, { method: "POST", signal }));
      fill(notice);
    } catch (e) {
      fill(notice, errorBox(e));
    } finally {
      Object.values(buttons).forEach((b) => { b.disabled = false; });
    }
  }

  let previewShown = false;
  let timelineAt = 0;
  function update(c) {
    const statusChanged = c.status !== campaign.status;
    campaign = c;
    title.textContent = c.name;
    document.getElementById("crumb").textContent = c.name;
    status.textContent = c.status;
    status.dataset.status = c.status;
    buttons.pause.hidden = !["scheduled", "running"].includes(c.status);
    buttons.resume.hidden = c.status !== "paused";
    buttons.cancel.hidden = !OPEN.includes(c.status);
    for (const [key, el] of cards) el.textContent = fmtNumber(c.counts[key]);
    const done = DONE_STATUSES.reduce((n, k) => n + c.counts[k], 0);
    fill(progress, progressBar(c.counts),
      h("div", { class: "progress-label" }, h("strong", null, `${Math.round(c.percent ?? 0)}%`),
        ` · ${fmtNumber(done)} of ${fmtNumber(c.counts.accepted)} messages settled`));
    const reason = c.pause_reason || c.failure_reason;
    const item = (k, v) => h("div", null, h("dt", null, k), h("dd", null, v));
    fill(meta,
      item("Created", fmtTime(c.created_at)), item("Scheduled", fmtTime(c.scheduled_at)),
      item("Started", fmtTime(c.started_at)), item("Finished", fmtTime(c.finished_at)),
      item("Rate", c.rate_per_second != null ? `${c.rate_per_second} msg/s` : "—"),
      item("Time left", c.window_opens_at ? `window opens ${fmtTime(c.window_opens_at)}` : fmtDuration(c.eta_seconds)),
      item("File", c.source?.name ?? "—"), reason ? item("Reason", reason) : null);
    if (!previewShown && c.counts.accepted > 0) loadPreview();
    if (statusChanged || (c.status === "running" && Date.now() - timelineAt > 5000)) loadTimeline();
  }

  async function loadTimeline() {
    timelineAt = Date.now();
    try {
      const t = await api(`/v1/campaigns/${id}/timeline`, { signal });
      fill(chart, drawTimeline(t, { running: campaign.status === "running" }));
    } catch (e) {
      if (!signal.aborted) fill(chart, errorBox(e));
    }
  }

  async function loadPreview() {
    previewShown = true;
    try {
      const first = (await api(`/v1/campaigns/${id}/messages?limit=1`, { signal })).data[0];
      const name = first?.template ?? campaign.template;
      const language = first?.language ?? campaign.language;
      const list = (await api(`/v1/accounts/${campaign.account}/templates`, { signal })).data;
      const template = list.find((t) => t.name === name && (!language || t.language === language)) ?? list.find((t) => t.name === name);
      if (!template && !first) { fill(preview, h("p", { class: "empty" }, "No message to show yet.")); previewShown = false; return; }
      const params = first?.params ?? sampleParams(template);
      fill(preview,
        h("div", { class: "phone-bar" }, h("span", { class: "avatar" }, "P"), h("div", null, h("strong", null, first?.phone ?? "Recipient"), h("div", { class: "small" }, `${name} · ${language ?? ""}`))),
        h("div", { class: "phone-screen" }, renderPreview(template, params, first?.rendered_text ?? "")),
        h("p", { class: "muted small pad" }, first ? "The first message of the campaign, as its recipient sees it." : "Filled with the template's sample values."));
    } catch (e) {
      previewShown = false;
      if (!signal.aborted) fill(preview, errorBox(e));
    }
  }

  // Rejected rows, a page at a time; `cursors` holds the cursor of every page shown so far.
  const cursors = [null];
  async function loadRejections(page) {
    try {
      const r = await api(`/v1/campaigns/${id}/rejections?limit=20${cursors[page] != null ? `&cursor=${cursors[page]}` : ""}`, { signal });
      cursors[page + 1] = r.next_cursor;
      const prev = h("button", { type: "button", class: "secondary small", disabled: page === 0, onclick: () => loadRejections(page - 1) }, "Previous");
      const next = h("button", { type: "button", class: "secondary small", disabled: r.next_cursor == null, onclick: () => loadRejections(page + 1) }, "Next");
      fill(rejections, r.data.length === 0 ? h("p", { class: "empty pad" }, "No rows were rejected.") : [
        h("table", { class: "table" },
          h("thead", null, h("tr", null, h("th", { class: "num" }, "Row"), h("th", null, "Column"), h("th", null, "Code"), h("th", null, "Reason"))),
          h("tbody", null, r.data.map((x) => h("tr", { dataset: { row: x.row_number } },
            h("td", { class: "num" }, x.row_number), h("td", null, x.column ?? "—"), h("td", null, h("code", null, x.code)), h("td", null, x.message))))),
        h("div", { class: "pager" }, h("span", { class: "muted small" }, `Page ${page + 1}`), prev, next,
          h("a", { class: "button secondary small", href: "#", onclick: (e) => { e.preventDefault(); download(); } }, "Download CSV")),
      ]);
    } catch (e) {
      if (!signal.aborted) fill(rejections, errorBox(e));
    }
  }

  // A link cannot carry the token, so the CSV is fetched and handed to the browser as a blob.
  async function download() {
    const r = await fetch(`/v1/campaigns/${id}/rejections?format=csv`, { headers: { Authorization: `Bearer ${token()}` } });
    const url = URL.createObjectURL(await r.blob());
    const a = h("a", { href: url, download: `rejections-${id}.csv` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  update(campaign);
  loadTimeline();
  loadRejections(0);

  // Live: server-sent events while the campaign is open; after it ends, a few polls catch the last provider
  // statuses (delivered, read) that arrive after `completed`.
  const settling = (c) => c.status === "completed" && c.finished_at && Date.now() - Date.parse(c.finished_at) < 10 * 60_000 && c.counts.sent + c.counts.delivered > 0;
  let rejectedShown = campaign.counts.rejected;
  while (!signal.aborted && (OPEN.includes(campaign.status) || settling(campaign))) {
    if (OPEN.includes(campaign.status)) {
      try {
        for await (const ev of events(`/v1/campaigns/${id}/events`, signal)) {
          if (ev.event === "progress") update(JSON.parse(ev.data));
          if (campaign.counts.rejected !== rejectedShown) { rejectedShown = campaign.counts.rejected; loadRejections(0); }
        }
      } catch (e) {
        if (signal.aborted) return;
        if (e.status === 401) throw e;
      }
    }
    await sleep(2000, signal);
    if (signal.aborted) return;
    try {
      update(await api(`/v1/campaigns/${id}`, { signal }));
    } catch (e) {
      if (signal.aborted) return;
      if (e.status === 401) throw e;
    }
  }
  if (!signal.aborted) loadTimeline();
}

// ---- upload --------------------------------------------------------------------------------------------------------

/** `2026-12-01T09:00` from a datetime-local input, in the user's zone, as ISO 8601 with its offset. */
export function localToIso(value) {
  const d = new Date(value);
  if (!value || Number.isNaN(d.getTime())) return null;
  const p = (n) => String(n).padStart(2, "0");
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${sign}${p(Math.floor(abs / 60))}:${p(abs % 60)}`;
}

/** Upload: check the file with `/validate`, show the report, create the campaign only on confirmation. */
export async function uploadView(main, { signal, navigate }) {
  const list = await accounts(signal);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const field = (label, input, hint) => h("div", { class: "field" }, h("label", { for: input.id }, label), input, hint ? h("p", { class: "hint" }, hint) : null);
  const file = h("input", { id: "file", type: "file", required: true, accept: ".csv,.xls,.xlsx,.json,.zip,.gz,.tgz,.tar" });
  const account = h("select", { id: "account", required: true }, list.map((a) => h("option", { value: a.id }, `${a.name} (${a.provider})`)));
  const name = h("input", { id: "name", type: "text", placeholder: "The file's name" });
  const scheduled = h("input", { id: "scheduled", type: "datetime-local" });
  const template = h("select", { id: "template" });
  const language = h("input", { id: "language", type: "text", placeholder: "es, en_US…" });
  const params = h("textarea", { id: "params", rows: 3, placeholder: '[{"param": 1, "column": "customer_name"}, {"param": 2, "value": "Acme"}]' });
  const mediaUrl = h("input", { id: "media_url", type: "url", placeholder: "https://…" });
  const mediaType = h("select", { id: "media_type" }, ["", "image", "video", "document"].map((t) => h("option", { value: t }, t || "none")));
  const templates = () => {
    const a = list.find((x) => x.id === account.value);
    fill(template, h("option", { value: "" }, "Per row (Chat-Tonic columns)"),
      (a?.templates ?? []).map((t) => h("option", { value: t.name, dataset: { language: t.language } }, `${t.name} (${t.language})`)));
  };
  account.addEventListener("change", templates);
  templates();
  template.addEventListener("change", () => { language.value = template.selectedOptions[0]?.dataset.language ?? ""; });
  const error = h("div");
  const submit = h("button", { type: "submit", id: "validate", class: "primary" }, "Check file");
  const form = h("form", { id: "upload", class: "card form" },
    field("Campaign file", file, "CSV, XLS, XLSX or JSON — also inside ZIP, GZ or TAR."),
    h("div", { class: "row" }, field("Account", account), field("Name", name)),
    field("Start at", scheduled, `Your time zone: ${zone}. Leave empty to start as soon as the file is read.`),
    h("details", { class: "mapping" }, h("summary", null, "One template for the whole file (Jelou-style column mapping)"),
      h("div", { class: "row" }, field("Template", template), field("Language", language)),
      field("Parameters", params, "JSON: which column (or constant value) fills each template parameter; param 0 is a text header."),
      h("div", { class: "row" }, field("Header media URL", mediaUrl), field("Media type", mediaType))),
    error, h("div", { class: "actions" }, submit));
  const report = h("div", { id: "report" });
  fill(main, pageHead("New campaign"), form, report);

  function formData() {
    const data = new FormData();
    data.set("account", account.value);
    const text = (key, value) => { if (value?.trim()) data.set(key, value.trim()); };
    text("name", name.value);
    if (scheduled.value) data.set("scheduled_at", localToIso(scheduled.value));
    text("template", template.value);
    if (template.value) {
      text("language", language.value);
      text("params", params.value);
      text("media_url", mediaUrl.value);
      text("media_type", mediaType.value);
    }
    data.set("file", file.files[0]);
    return data;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(error);
    fill(report);
    submit.disabled = true;
    submit.textContent = "Checking…";
    try {
      const result = await api("/v1/campaigns/validate", { method: "POST", body: formData(), signal });
      showReport(result);
    } catch (e) {
      if (e.status === 401) throw e;
      fill(error, errorBox(e));
    } finally {
      submit.disabled = false;
      submit.textContent = "Check file";
    }
  });

  function showReport({ summary, rejections }) {
    // One key per checked file: a double click on Confirm creates one campaign.
    const key = crypto.randomUUID();
    const confirmButton = h("button", { type: "button", id: "confirm", class: "primary", disabled: summary.accepted === 0 }, summary.accepted === 0 ? "Nothing to send" : `Confirm and send ${fmtNumber(summary.accepted)} messages`);
    const back = h("button", { type: "button", class: "secondary", onclick: () => { fill(report); form.hidden = false; } }, "Change");
    const failure = h("div");
    confirmButton.addEventListener("click", async () => {
      confirmButton.disabled = true;
      try {
        const c = await api("/v1/campaigns", { method: "POST", body: formData(), headers: { "Idempotency-Key": key }, signal });
        navigate(`#/campaigns/${c.id}`);
      } catch (e) {
        fill(failure, errorBox(e));
        confirmButton.disabled = false;
      }
    });
    const stat = (key, label) => h("div", { class: `count ${key}` }, h("span", { class: "label" }, label), h("span", { class: "value", dataset: { report: key } }, fmtNumber(summary[key])));
    const shown = rejections.slice(0, 100);
    form.hidden = true;
    fill(report,
      h("section", { class: "card" }, h("h2", null, "Validation report"),
        h("p", { class: "muted" }, `${file.files[0]?.name ?? "The file"}: ${summary.format}${summary.wrapped_in?.length ? ` inside ${summary.wrapped_in.join(" / ")}` : ""}. Nothing is sent until you confirm.`),
        h("div", { class: "counts" }, stat("rows", "Rows"), stat("accepted", "Accepted"), stat("rejected", "Rejected"), stat("suppressed", "Opted out")),
        failure, h("div", { class: "actions" }, back, confirmButton)),
      rejections.length ? h("section", { class: "card flush" }, h("h2", { class: "pad" }, "Rejected rows"),
        h("table", { id: "report-rejections", class: "table" },
          h("thead", null, h("tr", null, h("th", { class: "num" }, "Row"), h("th", null, "Column"), h("th", null, "Code"), h("th", null, "Reason"))),
          h("tbody", null, shown.map((x) => h("tr", { dataset: { row: x.row_number } }, h("td", { class: "num" }, x.row_number), h("td", null, x.column ?? "—"), h("td", null, h("code", null, x.code)), h("td", null, x.message))))),
        summary.rejected > shown.length ? h("p", { class: "muted small pad" }, `Showing the first ${shown.length} of ${fmtNumber(summary.rejected)} rejected rows.`) : null) : null);
  }
}
