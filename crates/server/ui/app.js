// The dashboard's shell: hash routes, the sign-in gate, and one abortable view at a time.

import { token, signOut } from "./api.js";
import { h, fill } from "./dom.js";
import { signInView, listView, campaignView, uploadView } from "./views.js";

const main = document.getElementById("main");
let current = null;

/** Go to `hash` (`#/campaigns/…`); the route runs on `hashchange`. */
const navigate = (hash) => { location.hash = hash; };

function route() {
  const path = location.hash.replace(/^#/, "") || "/campaigns";
  if (path === "/campaigns/new") return { nav: "new", view: uploadView };
  const campaign = path.match(/^\/campaigns\/([0-9a-f-]{36})$/i);
  if (campaign) return { nav: "campaigns", view: campaignView, id: campaign[1] };
  return { nav: "campaigns", view: listView };
}

/** Render the route in the hash, aborting the view before it (its polling and event stream). */
async function show(notice) {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const signedIn = Boolean(token());
  document.body.classList.toggle("signed-out", !signedIn);
  if (!signedIn) {
    signInView(main, { notice, onSignedIn: () => show() });
    return;
  }
  const { nav, view, id } = route();
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === nav);
  fill(main, h("p", { class: "empty" }, "Loading…"));
  try {
    await view(main, { signal: controller.signal, id, navigate });
  } catch (e) {
    if (controller.signal.aborted) return;
    if (e.status === 401) {
      // The token was revoked or mistyped: back to the form, with the server's reason.
      signOut();
      show(e.message);
      return;
    }
    fill(main, h("div", { class: "alert", role: "alert" }, e.message ?? String(e)));
  }
}

document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  location.hash = "#/campaigns";
  show();
});
window.addEventListener("hashchange", () => show());
show();
