// Session Server dashboard: plain JS, no framework, no build step. Served
// under a Content-Security-Policy that allows only this file and app.css:
// no inline script or style, no other origin. Charts are SVG drawn here.
//
// The admin token arrives in the fragment (#app=APP&token=JWT, from
// `sessionserver dashboard`), or is pasted into the sign-in form; it is
// kept in sessionStorage only (this tab) and removed from the address bar.
"use strict";
performance.mark("dash:script");

const KEY = "sessionserver.dashboard";
const REFRESH_MS = 5000;
const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

// ---------- state ----------

const settings = {
  app: "",
  user: "",
  range: "all", // a first look shows everything (the README walk-through is dated 2024)
  from: "",
  to: "",
  tz: browserZone(),
  limit: 25,
};
performance.mark("dash:zone");
let token = "";
let apps = [];
let gen = 0; // bumped when the settings change: older answers are dropped
let timer = 0;
let refreshing = false;
let lastRefreshAt = 0;
const stats = { refreshes: 0, lastRequests: 0, maxRequests: 0, requests: 0 };
let drawnOnce = false;

// What the panels show, kept for CSV and for sorting.
const view = {
  heat: null, // heatmap_data
  daily: [], // [{date, sessions, seconds, time}]
  pages: [], // [{page, visits, total, average}]
  pageSort: { key: "visits", dir: -1 },
  tl: null, // timeline state, see loadTimeline
  detail: null, // {session, events}
};

function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

function validZone(tz) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// ---------- start ----------

function start() {
  performance.mark("dash:start");
  const frag = new URLSearchParams(location.hash.slice(1));
  const saved = readSaved();
  Object.assign(settings, saved);
  if (frag.has("token")) {
    sessionStorage.setItem(KEY + ".token", frag.get("token"));
  }
  // Everything but the token may also come in the fragment (a bookmark,
  // a test): app, user, range, from, to, tz, limit.
  for (const k of ["app", "user", "range", "from", "to", "tz"]) {
    if (frag.has(k)) settings[k] = frag.get(k);
  }
  if (frag.has("limit")) settings.limit = clampLimit(frag.get("limit"));
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  save();
  token = sessionStorage.getItem(KEY + ".token") || "";
  bindControls();
  performance.mark("dash:bound");
  document.addEventListener("visibilitychange", onVisibility);
  if (!token) {
    showLogin("");
    return;
  }
  signIn();
}

function readSaved() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY + ".settings") || "{}");
  } catch {
    return {};
  }
}

function save() {
  sessionStorage.setItem(KEY + ".settings", JSON.stringify(settings));
}

function clampLimit(v) {
  const n = Math.floor(Number(v));
  return Number.isFinite(n) && n >= 1 ? Math.min(n, 1000) : 25;
}

// signIn checks the token by listing its apps, then shows the dashboard.
// With an app known already (the fragment, this tab's last choice, the
// token's app claim) its panels are asked for at once, beside the list of
// apps: one round trip less before the heatmap.
async function signIn() {
  hideMessage();
  setStatus("Checking the token…");
  const early = settings.app || (tokenClaims(token) || {}).app || "";
  let first = false;
  if (early) {
    settings.app = early;
    $("dash").hidden = false;
    first = true;
    refresh(true);
  }
  let answer;
  try {
    answer = await api("/api/apps", {});
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      authFailed(e);
    } else {
      showMessage("The server could not be reached: " + e.message + ". Retrying…");
      gen++;
      stopTimer();
      timer = setTimeout(signIn, REFRESH_MS);
    }
    return;
  }
  performance.mark("dash:apps");
  apps = answer.data.apps || [];
  if (!settings.app || !apps.some((a) => a.app === settings.app)) {
    const claim = (tokenClaims(token) || {}).app;
    settings.app = claim || (apps[0] && apps[0].app) || settings.app;
  }
  fillControls();
  $("login").hidden = true;
  $("controls").hidden = false;
  $("dash").hidden = false;
  if (!apps.length) {
    showMessage("This token sees no app yet: start a session with it to make one.");
  }
  if (!first || settings.app !== early) refresh(true);
}

// authFailed says plainly why a token was refused and offers the form.
function authFailed(e) {
  if (!token) return; // told already (the panels and the list of apps were asked at once)
  gen++;
  stopTimer();
  sessionStorage.removeItem(KEY + ".token");
  const claims = tokenClaims(token);
  // The server's reason is in details ("auth: unauthorized: token expired").
  const reason = String(e.details || e.message).replace(/^auth: (unauthorized: |forbidden: )?/, "");
  let why;
  if (e.status === 403) {
    why = "This token may not read this dashboard (" + reason + "): it needs role admin.";
  } else if (claims === null) {
    why = "This is not a valid token (the server says: " + reason + ").";
  } else if (typeof claims.exp === "number" && claims.exp * 1000 < Date.now()) {
    why = "The token expired at " + new Date(claims.exp * 1000).toISOString() + " (the server says: " + reason + ").";
  } else {
    why = "The server refused the token: " + reason + ".";
  }
  token = "";
  $("dash").hidden = true;
  $("controls").hidden = true;
  showLogin(why + " Run sessionserver dashboard for a new link, or paste another token.");
}

// tokenClaims reads a JWT's payload without checking it (only to explain
// a refusal); null when it is not a JWT.
function tokenClaims(t) {
  try {
    const part = t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return null;
  }
}

function showLogin(why) {
  $("login").hidden = false;
  if (why) showMessage(why, "error");
  else hideMessage();
  setStatus("");
  $("token-input").value = "";
  $("login-app").value = settings.app || "";
  $("token-input").focus();
}

function showMessage(text, kind) {
  const m = $("message");
  m.textContent = text;
  m.dataset.kind = kind || "info";
  m.hidden = false;
}

function hideMessage() {
  $("message").hidden = true;
  $("message").textContent = "";
}

function setStatus(text) {
  $("status").textContent = text;
}

// ---------- API ----------

class ApiError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

let requestCounter = 0;

async function api(path, body) {
  requestCounter++;
  stats.requests++;
  let r;
  try {
    r = await fetch(path, {
      method: "POST",
      headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (e) {
    throw new ApiError(0, "network error (" + e.message + ")");
  }
  let j = null;
  try {
    j = await r.json();
  } catch {
    /* not JSON */
  }
  if (!r.ok || !j || j.status !== "success") {
    const msg = (j && j.message) || r.statusText || "HTTP " + r.status;
    throw new ApiError(r.status, msg, j && j.details);
  }
  return j;
}

// query is the body every analytics read shares.
function query(extra) {
  const q = { app: settings.app, tz: settings.tz };
  if (settings.user.trim()) q.user = settings.user.trim();
  const [from, to] = rangeDates();
  if (from) q.from = from;
  if (to) q.to = to;
  return Object.assign(q, extra);
}

// ---------- dates in a zone ----------

const partsCache = new Map();
function zoneParts(date, tz) {
  let f = partsCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", weekday: "short",
    });
    partsCache.set(tz, f);
  }
  const o = {};
  for (const p of f.formatToParts(date)) o[p.type] = p.value;
  return o;
}

function todayIn(tz) {
  const p = zoneParts(new Date(), tz);
  return `${p.year}-${p.month}-${p.day}`;
}

function addDays(ymd, n) {
  const d = new Date(ymd + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// rangeDates: [from, to] as YYYY-MM-DD in the chosen zone, "" for open.
function rangeDates() {
  const today = todayIn(settings.tz);
  switch (settings.range) {
    case "today": return [today, today];
    case "7d": return [addDays(today, -6), today];
    case "30d": return [addDays(today, -29), today];
    case "custom": return [settings.from || "", settings.to || ""];
    default: return ["", ""];
  }
}

// nowSlot is the current weekday (0 Monday) and hour in the zone.
function nowSlot(tz) {
  const p = zoneParts(new Date(), tz);
  const wd = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(p.weekday);
  return { day: wd, hour: Number(p.hour) };
}

function fmtTime(iso, tz) {
  if (!iso) return "";
  const p = zoneParts(new Date(iso), tz);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

// seconds of an "HH:MM:SS" duration (null stays null).
function secs(d) {
  if (d == null) return null;
  const [h, m, s] = String(d).split(":").map(Number);
  return h * 3600 + m * 60 + s;
}

function hms(total) {
  total = Math.max(0, Math.floor(total));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

function shortDur(total) {
  if (total >= 3600) return (total / 3600).toFixed(total >= 36000 ? 0 : 1) + " h";
  if (total >= 60) return Math.round(total / 60) + " min";
  return Math.round(total) + " s";
}

// ---------- refresh ----------

function onVisibility() {
  if (document.visibilityState === "visible") {
    if (token && !$("dash").hidden && Date.now() - lastRefreshAt >= REFRESH_MS) refresh(false);
    else schedule();
  } else {
    stopTimer();
  }
}

function stopTimer() {
  clearTimeout(timer);
  timer = 0;
}

function schedule() {
  stopTimer();
  if (!token || document.visibilityState !== "visible") return;
  timer = setTimeout(() => refresh(false), REFRESH_MS);
}

// refresh asks the server for every panel: at most 10 requests (heatmap,
// summary, stats, daily-time-spent, pages/stats; for the timeline a
// heatmap of its newest day when that day is busy and up to 3 pages; the
// open session's events). reset: the settings changed.
async function refresh(reset) {
  if (reset) {
    gen++;
    view.tl = null;
    view.detail = null;
    $("detail").hidden = true;
  } else if (refreshing) {
    return;
  }
  stopTimer();
  if (!validZone(settings.tz)) {
    showMessage(`"${settings.tz}" is not a time zone this browser knows (use an IANA name such as Europe/Berlin).`, "error");
    $("tz").setAttribute("aria-invalid", "true");
    return;
  }
  $("tz").removeAttribute("aria-invalid");
  performance.mark("dash:zone-checked");
  const my = gen;
  refreshing = true;
  requestCounter = 0;
  const began = performance.now();
  setStatus("Refreshing…");
  try {
    const heat = api("/api/sessions/heatmap", query());
    const summary = api("/api/sessions/summary", query());
    const st = api("/api/sessions/stats", query());
    const daily = api("/api/sessions/daily-time-spent", query());
    // The pages answer can be large (10,000 pages: 750 kB of JSON to
    // parse and sort): it is asked for once the heatmap has arrived, so
    // that the heatmap is drawn first.
    const q = query();
    const pages = heat.catch(() => null).then(() => (my === gen ? api("/api/pages/stats", q) : null));
    performance.mark("dash:asked");
    const heatDone = heat.then((h) => {
      if (my !== gen) return;
      performance.mark("dash:heatmap-answer");
      view.heat = h.heatmap_data;
      drawHeatmap();
      if (!drawnOnce) {
        drawnOnce = true;
        performance.mark("heatmap-drawn");
        document.body.dataset.heatmapDrawn = String(Math.round(performance.now()));
      }
    });
    const tilesDone = Promise.all([summary, st]).then(([s, t]) => my === gen && drawTiles(s.data, t.data));
    const dailyDone = Promise.all([heat, daily]).then(([h, d]) => my === gen && drawDaily(h.heatmap_data, d.data.daily_time));
    const pagesDone = pages.then((p) => p && my === gen && drawPages(p.data.page_stats));
    // The timeline needs the heatmap's days to find its newest page.
    const tlDone = heatDone.then(() => my === gen && loadTimeline(false));
    const detailDone = view.detail ? loadDetail(view.detail.row, false) : Promise.resolve();
    const results = await Promise.allSettled([heatDone, tilesDone, dailyDone, pagesDone, tlDone, detailDone]);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    if (my !== gen) return;
    hideMessageIfInfo();
    stats.refreshes++;
    stats.lastRequests = requestCounter;
    stats.maxRequests = Math.max(stats.maxRequests, requestCounter);
    const st2 = $("status");
    st2.dataset.refreshes = String(stats.refreshes);
    st2.dataset.requests = String(stats.lastRequests);
    st2.dataset.maxRequests = String(stats.maxRequests);
    st2.dataset.ms = String(Math.round(performance.now() - began));
    setStatus(`Updated ${new Date().toLocaleTimeString()} · ${requestCounter} requests · every ${REFRESH_MS / 1000} s while visible`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      refreshing = false;
      authFailed(e);
      return;
    }
    if (my === gen) {
      showMessage("Could not refresh: " + e.message + (e.details ? ` (${e.details})` : ""), "error");
      setStatus("Refresh failed; retrying");
    }
  } finally {
    refreshing = false;
    lastRefreshAt = Date.now();
  }
  if (token) schedule();
}

function hideMessageIfInfo() {
  if (!$("message").hidden && $("message").dataset.kind === "error") hideMessage();
}

// ---------- controls ----------

function bindControls() {
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = $("token-input").value.trim().replace(/^Bearer\s+/i, "");
    if (!t) return;
    token = t;
    sessionStorage.setItem(KEY + ".token", t);
    if ($("login-app").value.trim()) settings.app = $("login-app").value.trim();
    save();
    signIn();
  });
  $("controls").addEventListener("submit", (ev) => {
    ev.preventDefault();
    readControls();
    refresh(true);
  });
  for (const id of ["app", "range", "from", "to"]) {
    $(id).addEventListener("change", () => {
      readControls();
      refresh(true);
    });
  }
  for (const id of ["user", "tz", "limit"]) {
    $(id).addEventListener("change", () => {
      readControls();
      refresh(true);
    });
  }
  $("signout").addEventListener("click", () => {
    sessionStorage.removeItem(KEY + ".token");
    token = "";
    stopTimer();
    gen++;
    $("dash").hidden = true;
    $("controls").hidden = true;
    showLogin("");
  });
  $("heatmap-toggle").addEventListener("click", () => toggle("heatmap-toggle", "heatmap-table"));
  $("daily-toggle").addEventListener("click", () => toggle("daily-toggle", "daily-table"));
  for (const th of document.querySelectorAll("#pages-table th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.sort;
      const s = view.pageSort;
      s.dir = s.key === key ? -s.dir : key === "page" ? 1 : -1;
      s.key = key;
      renderPages();
    });
  }
  $("tl-older").addEventListener("click", () => pageTimeline(1));
  $("tl-newer").addEventListener("click", () => pageTimeline(-1));
  $("detail-close").addEventListener("click", () => {
    view.detail = null;
    $("detail").hidden = true;
  });
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-csv]");
    if (b) downloadCSV(b.dataset.csv);
    const s = ev.target.closest("button[data-open-session]");
    if (s) {
      const row = view.tl && view.tl.rows.find((r) => r.session_id === s.dataset.openSession);
      if (row) loadDetail(row, true).catch((e) => showMessage("Could not load the events: " + e.message, "error"));
    }
  });
}

function toggle(buttonId, tableId) {
  const b = $(buttonId), t = $(tableId);
  t.hidden = !t.hidden;
  b.setAttribute("aria-expanded", String(!t.hidden));
  b.textContent = t.hidden ? "Show table" : "Hide table";
}

function readControls() {
  settings.app = $("app").value;
  settings.user = $("user").value.trim();
  settings.range = $("range").value;
  settings.from = $("from").value;
  settings.to = $("to").value;
  settings.tz = $("tz").value.trim() || browserZone();
  settings.limit = clampLimit($("limit").value);
  save();
  syncCustom();
}

function syncCustom() {
  for (const el of document.querySelectorAll(".custom")) el.hidden = settings.range !== "custom";
}

function fillControls() {
  const sel = $("app");
  sel.replaceChildren();
  const names = apps.map((a) => a.app);
  if (settings.app && !names.includes(settings.app)) names.unshift(settings.app);
  for (const name of names) {
    const a = apps.find((x) => x.app === name);
    const o = new Option(a ? `${name} (${a.sessions} sessions, ${a.page_tracks} page tracks)` : name, name);
    sel.append(o);
  }
  sel.value = settings.app;
  $("user").value = settings.user;
  $("range").value = settings.range;
  $("from").value = settings.from;
  $("to").value = settings.to;
  $("tz").value = settings.tz;
  $("limit").value = String(settings.limit);
  syncCustom();
  $("tz").addEventListener("focus", fillZones, { once: true }); // ~400 options: only when wanted
}

function fillZones() {
  const dl = $("zones");
  if (dl.children.length || !Intl.supportedValuesOf) return;
  const frag = document.createDocumentFragment();
  for (const z of Intl.supportedValuesOf("timeZone")) frag.append(new Option(z));
  dl.append(frag);
}

// ---------- DOM and SVG helpers ----------

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") e.textContent = v;
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "role" || k === "scope" || k === "type") e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...kids);
  return e;
}

function svg(tag, attrs, ...kids) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...kids);
  return e;
}

function title(text) {
  return svg("title", { text });
}

// ---------- tiles ----------

function drawTiles(s, t) {
  const open = s.total_sessions - s.ended_sessions;
  const values = {
    sessions: s.total_sessions,
    ended: s.ended_sessions,
    open,
    total: s.total_duration,
    average: s.average_duration,
    longest: s.longest_session,
    shortest: s.shortest_session,
    days: t.active_days,
  };
  for (const [k, v] of Object.entries(values)) {
    const tile = document.querySelector(`[data-tile="${k}"]`);
    tile.querySelector(".value").textContent = v == null ? "—" : String(v);
    tile.dataset.value = v == null ? "" : String(v);
  }
}

// ---------- heatmap ----------

// The colour scale is by quantile: every non-zero count is ranked among
// the distinct non-zero counts of the grid and the rank picks one of five
// shades, so one spike takes the darkest shade alone and does not wash the
// other cells out to the lightest (as a linear scale would). Zero has a
// shade of its own.
function quantileScale(values) {
  const distinct = [...new Set(values.filter((v) => v > 0))].sort((a, b) => a - b);
  const rank = new Map(distinct.map((v, i) => [v, i]));
  const n = distinct.length;
  const level = (v) => (v <= 0 ? 0 : n <= 1 ? 5 : 1 + Math.round((4 * rank.get(v)) / (n - 1)));
  // Each shade's lowest count, for the legend.
  const lows = [];
  for (const v of distinct) {
    const l = level(v);
    if (lows[l] === undefined) lows[l] = v;
  }
  return { level, lows };
}

function drawHeatmap() {
  const h = view.heat;
  const grid = DAYS.map((_, d) => Array.from({ length: 24 }, (_, hr) => Number((h.weekly_hourly[d] || {})[hr] || 0)));
  const scale = quantileScale(grid.flat());
  const now = nowSlot(settings.tz);
  const cw = 28, ch = 24, left = 92, top = 22;
  const W = left + 24 * cw + 2, H = top + 7 * ch + 4;
  const total = grid.flat().reduce((a, b) => a + b, 0);
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`, class: "heat", role: "img",
    "aria-label": `Sessions started by weekday and hour in ${settings.tz}: ${total} in all. The table below lists every cell.`,
  });
  for (let hr = 0; hr < 24; hr++) {
    root.append(svg("text", { x: left + hr * cw + cw / 2, y: top - 7, class: "axis", "text-anchor": "middle", text: String(hr) }));
  }
  for (let d = 0; d < 7; d++) {
    root.append(svg("text", { x: left - 8, y: top + d * ch + ch / 2 + 4, class: "axis", "text-anchor": "end", text: DAYS[d] }));
    for (let hr = 0; hr < 24; hr++) {
      const v = grid[d][hr];
      const isNow = d === now.day && hr === now.hour;
      const r = svg("rect", {
        x: left + hr * cw + 1, y: top + d * ch + 1, width: cw - 2, height: ch - 2, rx: 3,
        class: `cell l${scale.level(v)}${isNow ? " now" : ""}`,
        "data-cell": `${d}-${hr}`, "data-value": String(v),
      });
      if (isNow) r.setAttribute("data-now", "true");
      r.append(title(`${DAYS[d]} ${String(hr).padStart(2, "0")}:00–${String(hr + 1).padStart(2, "0")}:00: ${v} session${v === 1 ? "" : "s"}${isNow ? " (now)" : ""}`));
      root.append(r);
    }
  }
  $("heatmap").replaceChildren(root);
  // Legend: the lowest count of each shade.
  const leg = $("heatmap-legend");
  leg.replaceChildren(el("span", { text: "Quantile scale:" }));
  const sw = (l, text) => {
    const s = svg("svg", { width: 14, height: 14, viewBox: "0 0 14 14", "aria-hidden": "true" }, svg("rect", { width: 14, height: 14, rx: 3, class: `cell l${l}` }));
    leg.append(el("span", { className: "swatch" }, s, document.createTextNode(" " + text)));
  };
  sw(0, "0");
  scale.lows.forEach((v, l) => v !== undefined && sw(l, "≥ " + v));
  const nowSw = svg("svg", { width: 14, height: 14, viewBox: "0 0 14 14", "aria-hidden": "true" }, svg("rect", { x: 1, y: 1, width: 12, height: 12, rx: 3, class: "cell l0 now" }));
  leg.append(el("span", { className: "swatch" }, nowSw, document.createTextNode(` now (${DAYS[now.day]} ${now.hour}:00, ${settings.tz})`)));
  // The same numbers as a table.
  const t = $("heatmap-table");
  const head = el("tr", {}, el("th", { scope: "col", text: "Day" }), ...Array.from({ length: 24 }, (_, hr) => el("th", { scope: "col", text: String(hr) })));
  const rows = grid.map((row, d) => el("tr", {}, el("th", { scope: "row", text: DAYS[d] }), ...row.map((v, hr) => el("td", { "data-cell": `${d}-${hr}`, text: String(v) }))));
  t.replaceChildren(el("caption", { text: `Sessions started, by weekday and hour (${settings.tz})` }), el("thead", {}, head), el("tbody", {}, ...rows));
}

// ---------- per day ----------

function drawDaily(heat, dailyTime) {
  const sessions = heat.daily_sessions || {};
  const time = dailyTime || {};
  const [from, to] = rangeDates();
  const known = [...new Set([...Object.keys(sessions), ...Object.keys(time)])].sort();
  let lo = from || known[0], hi = to || known[known.length - 1];
  let dates = known;
  if (lo && hi && lo <= hi) {
    dates = [];
    for (let d = lo; d <= hi && dates.length <= 400; d = addDays(d, 1)) dates.push(d);
    if (dates.length > 400) dates = known; // too long to draw every day: the days with data
  }
  view.daily = dates.map((date) => ({
    date, sessions: Number(sessions[date] || 0), time: time[date] || "00:00:00", seconds: secs(time[date] || "00:00:00"),
  }));
  $("daily-sessions").replaceChildren(barChart(view.daily, (r) => r.sessions, (r) => `${r.date}: ${r.sessions} session${r.sessions === 1 ? "" : "s"}`, String, "sessions"));
  $("daily-time").replaceChildren(barChart(view.daily, (r) => r.seconds, (r) => `${r.date}: ${r.time} active`, shortDur, "time"));
  const rows = view.daily.map((r) => el("tr", { "data-date": r.date },
    el("th", { scope: "row", text: r.date }),
    el("td", { "data-col": "sessions", text: String(r.sessions) }),
    el("td", { "data-col": "time", text: r.time })));
  $("daily-table").querySelector("tbody").replaceChildren(...rows);
}

function barChart(items, value, label, fmt, kind) {
  const W = 1200, H = 170, left = 52, bottom = 22, top = 8;
  const max = Math.max(1, ...items.map(value));
  const n = Math.max(1, items.length);
  const bw = (W - left - 4) / n;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "bars", role: "img", "aria-label": `${kind === "time" ? "Active time" : "Sessions"} per day; the table lists every day.` });
  root.append(svg("line", { x1: left, y1: H - bottom, x2: W, y2: H - bottom, class: "base" }));
  root.append(svg("text", { x: left - 6, y: top + 8, class: "axis", "text-anchor": "end", text: fmt(max) }));
  root.append(svg("text", { x: left - 6, y: H - bottom, class: "axis", "text-anchor": "end", text: "0" }));
  const every = Math.ceil(n / 8);
  items.forEach((it, i) => {
    const v = value(it);
    const h = ((H - bottom - top) * v) / max;
    const x = left + i * bw;
    const g = svg("g", { "data-bar": it.date, "data-kind": kind, "data-value": String(v) });
    g.append(title(label(it)));
    g.append(svg("rect", { x: x, y: top, width: Math.max(1, bw), height: H - bottom - top, class: "hit" }));
    g.append(svg("rect", { x: x + bw * 0.12, y: H - bottom - h, width: Math.max(1, bw * 0.76), height: h, class: "bar" }));
    root.append(g);
    if (i % every === 0) root.append(svg("text", { x: x + bw / 2, y: H - 6, class: "axis", "text-anchor": "middle", text: it.date.slice(5) }));
  });
  if (!items.length) root.append(svg("text", { x: W / 2, y: H / 2, class: "axis", "text-anchor": "middle", text: "no data in this range" }));
  return root;
}

// ---------- pages ----------

function drawPages(stats) {
  view.pages = Object.entries(stats || {}).map(([page, s]) => ({
    page, visits: s.visits, total: s.total_time, average: s.average_time,
  }));
  renderPages();
}

const MAX_PAGE_ROWS = 500;
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0); // code-unit order: fast on 10,000 pages

function renderPages() {
  const { key, dir } = view.pageSort;
  const val = (r) => (key === "page" ? r.page : key === "visits" ? r.visits : secs(r[key]));
  view.pages.sort((a, b) => {
    const x = val(a), y = val(b);
    const c = typeof x === "string" ? cmp(x, y) : x - y;
    return c * dir || cmp(a.page, b.page);
  });
  for (const th of document.querySelectorAll("#pages-table th[data-sort]")) {
    th.setAttribute("aria-sort", th.dataset.sort === key ? (dir > 0 ? "ascending" : "descending") : "none");
  }
  // Thousands of pages: the table shows the first 500 of the order chosen
  // (the CSV has every one).
  const shown = view.pages.slice(0, MAX_PAGE_ROWS);
  const rows = shown.map((r) => el("tr", { "data-page": r.page },
    el("th", { scope: "row", text: r.page }),
    el("td", { "data-col": "visits", text: String(r.visits) }),
    el("td", { "data-col": "total", text: r.total }),
    el("td", { "data-col": "average", text: r.average })));
  if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 4, className: "note", text: "No page tracks in this range." })));
  $("pages-table").querySelector("tbody").replaceChildren(...rows);
  const more = $("pages-more");
  more.hidden = view.pages.length <= MAX_PAGE_ROWS;
  more.textContent = `Showing ${MAX_PAGE_ROWS} of ${view.pages.length} pages; the CSV has all of them.`;
}

// ---------- timeline ----------

// The API lists a range's sessions in start-time order, oldest first, a
// page at a time with next_cursor. This panel shows them newest first and
// asks only for the newest part of the range it needs: the heatmap's
// daily_sessions say how many sessions each day holds, so the page takes
// the latest days (and, for a day with more than four pages of sessions,
// the latest hours of it, from a heatmap of that one day) that hold
// enough sessions for the page shown, walks the API's cursors over that
// span (limit = rows per page, or half the span for a busy one, so a span
// takes two or three requests), and shows it reversed. "Older" adds the
// span before it the same way; spans meet at exact instants, so no session
// is missed or shown twice whatever the counts say. A refresh reloads the
// newest span while the first page is shown, and leaves the rows alone
// while an older page is (they do not move under the reader).
function newTimeline() {
  const counts = (view.heat && view.heat.daily_sessions) || {};
  const days = Object.keys(counts).sort();
  return { days, counts, hours: new Map(), rows: [], at: null, done: false, page: 0 };
}

async function loadTimeline(userAction) {
  const my = gen;
  let tl = view.tl;
  if (!tl || (tl.page === 0 && !userAction)) {
    tl = newTimeline();
    await extendTimeline(tl, settings.limit, my);
    if (my !== gen) return;
    view.tl = tl;
  }
  renderTimeline();
}

// zoneInstant is the UTC time (ms) of hour h of day ymd in the zone.
function zoneInstant(ymd, h, tz) {
  const [y, m, d] = ymd.split("-").map(Number);
  const want = Date.UTC(y, m - 1, d, h);
  let t = want;
  for (let i = 0; i < 2; i++) {
    const p = zoneParts(new Date(t), tz);
    const shown = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    t = want - (shown - t);
  }
  return t;
}

// dayHours is the sessions of each hour of one day (a heatmap of that day).
async function dayHours(tl, day, my) {
  if (!tl.hours.has(day)) {
    const h = await api("/api/sessions/heatmap", query({ from: day, to: day }));
    if (my !== gen) return null;
    const wd = (new Date(day + "T00:00:00Z").getUTCDay() + 6) % 7; // 0 Monday, as the API
    const row = h.heatmap_data.weekly_hourly[wd] || {};
    tl.hours.set(day, Array.from({ length: 24 }, (_, i) => Number(row[i] || 0)));
  }
  return tl.hours.get(day);
}

// extendTimeline fetches older spans until tl.rows holds want sessions or
// the range's start is reached. tl.at is where the loaded rows begin:
// {i: day index, h: hour} (h 0: the whole day i), null while none is.
async function extendTimeline(tl, want, my) {
  const [rangeFrom, rangeTo] = rangeDates();
  while (tl.rows.length < want && !tl.done) {
    const need = want - tl.rows.length;
    // Walk back from tl.at unit by unit (hours of a day already split, or
    // whole days) until the units hold need sessions.
    let i = tl.at ? tl.at.i : tl.days.length, h = tl.at ? tl.at.h : 0;
    let add = 0;
    while (add < need) {
      if (h > 0) {
        const hrs = tl.hours.get(tl.days[i]);
        h--;
        add += hrs[h];
        continue;
      }
      if (i === 0) break;
      i--;
      const c = tl.counts[tl.days[i]];
      if (c > 4 * Math.max(need - add, settings.limit)) {
        const hrs = await dayHours(tl, tl.days[i], my); // a busy day: by hours
        if (hrs === null) return;
        h = 24;
        continue;
      }
      add += c;
    }
    const q = query({});
    delete q.from;
    delete q.to;
    if (h > 0) q.from = new Date(zoneInstant(tl.days[i], h, settings.tz)).toISOString();
    else if (i > 0) q.from = tl.days[i];
    else if (rangeFrom) q.from = rangeFrom;
    if (!tl.at) {
      if (rangeTo) q.to = rangeTo;
    } else if (tl.at.h > 0) {
      q.to = new Date(zoneInstant(tl.days[tl.at.i], tl.at.h, settings.tz) - 1).toISOString();
    } else {
      q.to = addDays(tl.days[tl.at.i], -1);
    }
    q.limit = Math.min(10000, Math.max(settings.limit, Math.ceil(add / 2)));
    const chunk = [];
    for (let n = 0; ; n++) {
      const a = await api("/api/sessions/timeline", q);
      if (my !== gen) return;
      chunk.push(...a.data.timeline);
      q.cursor = a.data.next_cursor;
      // At most 3 requests a span (it grew meanwhile: the rest of it
      // comes at the next refresh).
      if (!q.cursor || n >= 2) break;
    }
    tl.rows = chunk.concat(tl.rows);
    tl.at = { i, h };
    tl.done = i === 0 && h === 0;
  }
}

async function pageTimeline(delta) {
  const tl = view.tl;
  if (!tl) return;
  const L = settings.limit;
  const p = Math.max(0, tl.page + delta);
  if (delta > 0 && tl.rows.length <= p * L && tl.done) return;
  try {
    await extendTimeline(tl, (p + 1) * L, gen);
  } catch (e) {
    showMessage("Could not load older sessions: " + e.message, "error");
    return;
  }
  if (tl.rows.length <= p * L && p > 0) return;
  tl.page = p;
  renderTimeline();
}

function renderTimeline() {
  const tl = view.tl;
  const L = settings.limit;
  const newest = tl.rows.slice().reverse();
  const shown = newest.slice(tl.page * L, tl.page * L + L);
  const rows = shown.map((r) => el("tr", { "data-session-id": r.session_id, "data-status": r.status, "data-start": r.start_time },
    el("td", { "data-col": "start", text: fmtTime(r.start_time, settings.tz) }),
    el("td", { "data-col": "end", text: r.end_time ? fmtTime(r.end_time, settings.tz) : "—" }),
    el("td", { "data-col": "user", text: r.user }),
    el("td", { "data-col": "status" }, el("span", { className: "badge " + r.status, text: r.status })),
    el("td", { "data-col": "duration", text: r.duration }),
    el("td", {}, el("button", { type: "button", "data-open-session": r.session_id, "aria-label": `Events of the session of ${r.user} started ${fmtTime(r.start_time, settings.tz)}`, text: "Events" }))));
  if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 6, className: "note", text: "No sessions in this range." })));
  $("timeline-table").querySelector("tbody").replaceChildren(...rows);
  const total = Object.values(tl.counts).reduce((a, b) => a + b, 0);
  const pagesTotal = Math.max(1, Math.ceil(Math.max(total, tl.rows.length) / L));
  $("tl-page").textContent = `Page ${tl.page + 1} of ${pagesTotal}`;
  $("tl-page").dataset.page = String(tl.page + 1);
  $("timeline-table").dataset.hoursOf = [...tl.hours.keys()].join(","); // the days split into hours
  $("tl-newer").disabled = tl.page === 0;
  $("tl-older").disabled = tl.done && (tl.page + 1) * L >= tl.rows.length;
}

// ---------- one session's events ----------

async function loadDetail(row, focus) {
  const my = gen;
  // The detail endpoint selects by start time: the session's own instant
  // (both ends inclusive) and its user find it.
  const q = { app: settings.app, user: row.user, from: row.start_time, to: row.start_time, tz: settings.tz, limit: 100 };
  const a = await api("/api/sessions/session-timeline-detail", q);
  if (my !== gen) return;
  const s = a.data.detailed_timeline.find((x) => x.session_id === row.session_id);
  view.detail = { row, session: s || null };
  drawDetail();
  if (focus) $("detail-close").focus();
}

function drawDetail() {
  const d = $("detail");
  d.hidden = false;
  const s = view.detail.session;
  const row = view.detail.row;
  $("detail-title").textContent = `Events of ${row.user}'s session ${row.session_id.slice(0, 8)} (${s ? s.status : "not found"})`;
  d.dataset.session = row.session_id;
  const events = s ? s.events : [];
  const t0 = events.length ? Date.parse(events[0].timestamp) : 0;
  const last = events.length ? Date.parse(events[events.length - 1].timestamp) : 0;
  const open = s && s.status !== "ended";
  const t1 = Math.max(last, open ? Date.now() : last, t0 + 1000);
  const W = 760, H = 90, left = 20, right = 20;
  const x = (t) => left + ((W - left - right) * (t - t0)) / (t1 - t0);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "axis-chart", role: "img", "aria-label": "The session's events on a time axis; the table lists them." });
  root.append(svg("line", { x1: left, y1: 50, x2: W - right, y2: 50, class: "base" }));
  // Active stretches: from a start or resume to the next pause, end or timeout (or now).
  let since = null;
  for (const e of events) {
    const t = Date.parse(e.timestamp);
    if (e.type === "start" || e.type === "resume") since = t;
    else if (since !== null) {
      root.append(svg("rect", { x: x(since), y: 44, width: Math.max(1, x(t) - x(since)), height: 12, class: "active" }, title(`active ${hms((t - since) / 1000)}`)));
      since = null;
    }
  }
  if (since !== null && open) root.append(svg("rect", { x: x(since), y: 44, width: Math.max(1, x(t1) - x(since)), height: 12, class: "active open" }, title("active, still open")));
  events.forEach((e, i) => {
    const t = Date.parse(e.timestamp);
    const g = svg("g", { "data-event": e.type, class: "ev " + e.type });
    g.append(title(`${e.type} at ${fmtTime(e.timestamp, settings.tz)} (+${hms((t - t0) / 1000)})`));
    g.append(svg("circle", { cx: x(t), cy: 50, r: 6 }));
    g.append(svg("text", { x: x(t), y: i % 2 ? 80 : 30, class: "axis", "text-anchor": "middle", text: e.type }));
    root.append(g);
  });
  $("detail-chart").replaceChildren(root);
  const rows = events.map((e) => el("tr", { "data-event": e.type },
    el("th", { scope: "row", text: e.type }),
    el("td", { text: fmtTime(e.timestamp, settings.tz) }),
    el("td", { text: hms((Date.parse(e.timestamp) - t0) / 1000) })));
  $("detail-table").querySelector("tbody").replaceChildren(...rows);
}

// ---------- CSV ----------

function csvText(rows) {
  const q = (v) => {
    const s = v == null ? "" : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return rows.map((r) => r.map(q).join(",")).join("\r\n") + "\r\n";
}

function downloadCSV(kind) {
  let rows;
  const tag = `${settings.app}-${rangeDates().filter(Boolean).join("_") || "all"}`;
  switch (kind) {
    case "heatmap": {
      const h = view.heat;
      if (!h) return;
      rows = [["day", ...Array.from({ length: 24 }, (_, i) => String(i))]];
      DAYS.forEach((name, d) => rows.push([name, ...Array.from({ length: 24 }, (_, hr) => Number((h.weekly_hourly[d] || {})[hr] || 0))]));
      break;
    }
    case "daily":
      rows = [["date", "sessions", "active_time"], ...view.daily.map((r) => [r.date, r.sessions, r.time])];
      break;
    case "pages":
      rows = [["page", "visits", "total_time", "average_time"], ...view.pages.map((r) => [r.page, r.visits, r.total, r.average])];
      break;
    case "timeline":
      rows = [["session_id", "user", "status", "start_time", "end_time", "duration"],
        ...(view.tl ? view.tl.rows.slice().reverse() : []).map((r) => [r.session_id, r.user, r.status, r.start_time, r.end_time, r.duration])];
      break;
    case "events":
      rows = [["type", "timestamp"], ...((view.detail && view.detail.session && view.detail.session.events) || []).map((e) => [e.type, e.timestamp])];
      break;
    default:
      return;
  }
  const url = URL.createObjectURL(new Blob([csvText(rows)], { type: "text/csv;charset=utf-8" }));
  const a = el("a", { href: url, download: `${kind}-${tag}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

start();
