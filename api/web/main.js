// sitewatch supervisors' web UI: a small single-page app on the JSON API, without a build step or any
// third-party code but the map's Leaflet. Every figure and image comes from the same routes integrators use,
// so roles and site scopes apply here exactly as there.
//
// This is the shell: the header, the log-in form and the router. It is the only module that imports the
// pages (views/*.js), and nothing imports it, so that the modules form no circle (tests/web/test_modules.py):
// a view takes what it shares from core.js and svg.js, and the widgets of another view from that view.

import { $, api, defineTexts, h, main, onUnauthorized, state, t } from "./core.js";
import { briefsView } from "./views/briefs.js";
import { camerasView } from "./views/cameras.js";
import { casesView } from "./views/cases.js";
import { dashboardView } from "./views/dashboard.js";
import { mapView } from "./views/map.js";
import { officersView } from "./views/officers.js";
import { projectsView } from "./views/projects.js";
import { recurringView } from "./views/recurring.js";
import { announceNew, reviewView } from "./views/review.js";

defineTexts(
  {
    brand: "sitewatch 工地安全监管", "nav.review": "审核", "nav.cases": "案件", "nav.cameras": "摄像头",
    "nav.officers": "安全员", "nav.dashboard": "看板", "nav.briefs": "简报", "nav.projects": "工程",
    "nav.map": "地图", "nav.recurring": "类案", "nav.events": "事件记录", logout: "退出", lang: "English",
    "login.title": "登录", "login.user": "用户名", "login.password": "密码", "login.go": "登录",
    "login.wrong": "用户名或密码错误",
  },
  {
    brand: "sitewatch site safety", "nav.review": "Review", "nav.cases": "Cases", "nav.cameras": "Cameras",
    "nav.officers": "Officers", "nav.dashboard": "Dashboard", "nav.briefs": "Briefs", "nav.projects": "Projects",
    "nav.map": "Map", "nav.recurring": "Recurring", "nav.events": "Events", logout: "Log out", lang: "中文",
    "login.title": "Log in", "login.user": "User name", "login.password": "Password", "login.go": "Log in",
    "login.wrong": "Wrong user name or password",
  },
);

function translateShell() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = t("brand");
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("#lang").textContent = t("lang");
}

function showLogin(message = "") {
  $("#bar").hidden = true;
  const error = h("p", { class: "error", role: "alert", text: message });
  const form = h("form", { class: "login", id: "login" },
    h("h2", { text: t("login.title") }),
    h("input", { name: "username", placeholder: t("login.user"), autocomplete: "username", required: true }),
    h("input", { name: "password", type: "password", placeholder: t("login.password"), autocomplete: "current-password", required: true }),
    h("button", { class: "primary", type: "submit", text: t("login.go") }),
    error);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = JSON.stringify({ username: form.username.value, password: form.password.value });
    const response = await fetch("/api/v1/auth/login", { method: "POST", body, headers: { "Content-Type": "application/json" } });
    if (response.ok) start();
    else error.textContent = t("login.wrong");
  });
  main().replaceChildren(form);
}

async function start() {
  try {
    state.me = await api("/api/v1/auth/me");
  } catch {
    return;
  }
  state.sites = await api("/api/v1/sites");
  $("#bar").hidden = false;
  $("#who").textContent = `${state.me.name} · ${state.me.role}`;
  translateShell();
  route();
  poll.last = null; // whoever logged in: no announcement for what waited before
  countPending();
}

// -- the review badge: how many events wait, polled; new ones announced (see review.js) ---------------

const POLL_MS = 15_000;
const poll = { timer: 0, last: null };
async function countPending() {
  clearTimeout(poll.timer);
  if (!state.me) return;
  try {
    const { pending, newest_started_at: newest } = await api("/api/v1/events/pending-count");
    const link = $("header nav a[href='#/review']");
    // The number is drawn by CSS (::after) from data-count, so that the link's text stays its label.
    if (pending > 0) link.dataset.count = pending > 99 ? "99+" : String(pending);
    else delete link.dataset.count;
    link.setAttribute("aria-label", pending > 0 ? `${t("nav.review")} (${pending} ${t("r.badge")})` : t("nav.review"));
    const last = poll.last;
    if (last && (pending > last.pending || (newest && newest !== last.newest && (!last.newest || newest > last.newest)))) {
      announceNew(Math.max(1, pending - last.pending));
    }
    poll.last = { pending, newest };
  } catch (error) {
    if (error.message === "401") return; // logged out (the log-in form shows): start() polls again
  }
  if (state.me) poll.timer = setTimeout(countPending, POLL_MS);
}

function route() {
  const page = (location.hash.replace(/^#\//, "") || "review").split("?")[0];
  for (const link of document.querySelectorAll("header nav a")) link.classList.toggle("on", link.getAttribute("href") === `#/${page}`);
  document.onkeydown = null;
  const view = { review: reviewView, cases: casesView, cameras: camerasView, officers: officersView, dashboard: dashboardView, briefs: briefsView, projects: projectsView, map: mapView,
    recurring: recurringView, events: () => reviewView("history") }[page] || reviewView;
  // A view left while its data was still loading may fail late; its error must not replace the page
  // shown since (it did: the review queue's late answer wiped the projects page).
  const visit = ++state.visits;
  view().catch((error) => {
    if (error.message !== "401" && visit === state.visits) main().replaceChildren(h("p", { class: "error", text: `${t("err")}: ${error.message}` }));
  });
}

// -- start -------------------------------------------------------------------------------------------

onUnauthorized(() => showLogin()); // any call of the API answered 401 (a session ended) shows the log-in form
$("#lang").addEventListener("click", () => {
  state.lang = state.lang === "zh" ? "en" : "zh";
  localStorage.setItem("sitewatch.lang", state.lang);
  translateShell();
  route();
  countPending(); // the badge's label in the new language
});
$("#logout").addEventListener("click", async () => {
  await fetch("/api/v1/auth/logout", { method: "POST", credentials: "same-origin" });
  state.me = null;
  clearTimeout(poll.timer);
  delete $("header nav a[href='#/review']").dataset.count;
  showLogin();
});
document.addEventListener("sitewatch:reviewed", countPending);
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") countPending(); });
window.addEventListener("hashchange", route);
translateShell();
start();
