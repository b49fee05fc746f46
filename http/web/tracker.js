/* Session Server tracker. How it works: http/web/web.go; use: README, "Track a web app". */
(() => {
  "use strict";
  const w = window, d = document, nav = navigator, perf = performance;
  if (w.SessionServer) return;
  const me = d.currentScript;

  function create(o) {
    const endpoint = (o.endpoint || (me && me.src ? new URL(me.src).origin : location.origin)).replace(/\/+$/, "");
    const log = (...a) => o.debug && console.debug("[sessionserver]", ...a);
    const signed = typeof o.getToken === "function";
    let user = o.user;
    if (!user) { // per tab, never a cookie
      try {
        const ss = sessionStorage, k = "sessionserver.visitor";
        if (!(user = ss.getItem(k))) ss.setItem(k, user = "v-" + crypto.randomUUID());
      } catch (e) { user = "v-" + Math.random().toString(36).slice(2); }
    }
    let base = Date.now() - perf.now(), last = 0, skewed = false; // time = base + perf.now()
    let token = null, tokTimer = 0, sid = null;
    let state = "init", pausedAt = 0, pauseAcked = false, pauseTask = null, idleTimer = 0;
    let page = null, seen = 0, since = null;
    const q = [];
    let busy = false, leaving = false;

    const now = () => perf.now();
    const iso = (t) => (skewed ? undefined : new Date(last = Math.max(last, Math.round(base + t))).toISOString());
    const path = () => (location.pathname + (o.hash ? location.hash : "")).slice(0, 2048);
    const guard = (fn) => (...a) => { try { return fn(...a); } catch (e) { log(e); } };

    function send(api, t, make, on) {
      if (q.length > 99) return log("queue full", api);
      q.push({ api, t, make, on: on || {}, tries: 0, sent: false });
      pump();
    }
    function body(it) {
      const b = it.make();
      return b && JSON.stringify({ ...b, app: o.app, user, time: iso(it.t), access_token: token || undefined });
    }

    async function getToken() {
      token = await o.getToken();
      clearTimeout(tokTimer);
      try { // refresh before exp
        const ms = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).exp * 1e3 - Date.now() - 3e4;
        if (ms > 0) tokTimer = setTimeout(() => getToken().catch(log), Math.min(ms, 2e9));
      } catch (e) { log(e); }
    }

    async function attempt(it) {
      if (signed && !token) await getToken();
      const b = body(it), timed = !skewed;
      if (!b) return true;
      let r, data;
      it.sent = true;
      try {
        r = await fetch(endpoint + it.api, { method: "POST", body: b, keepalive: true });
        data = await r.json().catch(() => null);
      } catch (e) {
        return retry(it, 0);
      } finally {
        it.sent = false;
      }
      const why = (data && data.details) || "", a = (data && data.data) || {};
      if (r.ok) {
        const at = a.start_time || a.pause_time || a.resume_time || a.end_time || a.timestamp;
        if (!timed && at) { base = Date.parse(at) - it.t; last = 0; skewed = false; }
        if (it.on.ok) it.on.ok(a);
        return true;
      }
      if (r.status === 429 || r.status === 503) return retry(it, +r.headers.get("Retry-After"));
      if (r.status === 401 && signed && it.tries++ < 2) return getToken().then(() => false);
      if (r.status === 422 && why === "time" && timed) return !(skewed = true);
      log(r.status, it.api, data && data.message);
      if (it.on.fail) it.on.fail(r.status, why);
      return true;
    }
    async function retry(it, after) {
      if (++it.tries > 7) return true;
      await new Promise((r) => setTimeout(r, after > 0 ? after * 1e3 : Math.min(3e4, 250 * 2 ** it.tries) * (0.5 + Math.random())));
      return false;
    }
    async function pump() {
      if (busy || leaving) return;
      busy = true;
      while (q.length && !leaving) {
        const it = q[0];
        let done = true;
        try { done = await attempt(it); } catch (e) { log(e); }
        if (done && q.includes(it)) q.splice(q.indexOf(it), 1);
      }
      busy = false;
    }
    function flush() {
      for (const it of q.filter((x) => !x.sent)) {
        q.splice(q.indexOf(it), 1);
        const b = body(it), url = endpoint + it.api;
        if (b && !nav.sendBeacon(url, b)) fetch(url, { method: "POST", body: b, keepalive: true }).catch(log);
      }
    }

    function trackPage() {
      const t = now(), p = page;
      const ms = Math.min(864e5, seen + (since === null ? 0 : t - since));
      if (since !== null) since = t;
      seen = 0;
      if (p && ms >= 1) send("/api/pages/track", t, () => ({ page: p, timespent: Math.round(ms) / 1e3 }));
    }
    function route() {
      if (path() === page) return;
      trackPage();
      page = path();
    }

    const ev = (kind, t, on) => send("/api/sessions/" + kind, t, () => sid && { session_id: sid }, on);
    const paused = { ok: () => (pauseAcked = true) };
    function start(t = now()) {
      state = "on";
      sid = null;
      send("/api/sessions/start", t, () => ({}), { ok: (a) => (sid = a.session_id), fail: () => (state = "none") });
      if (d.visibilityState === "hidden") pause(now());
    }
    function pause(t) {
      if (state !== "on") return;
      state = "paused";
      pausedAt = t;
      pauseAcked = false;
      ev("pause", t, paused);
    }
    function resume() {
      if (state === "ended" || state === "none") return start();
      if (state !== "paused") return;
      state = "on";
      if (pauseTask) return void (pauseTask = null);
      ev("resume", now(), { fail: (code, why) => (code === 404 || (code === 409 && !/active/.test(why))) && start() });
    }
    function end() {
      if (state !== "on" && state !== "paused") return;
      const t = state === "paused" && !pauseAcked ? pausedAt : now(); // a pause may still be on its way
      state = "ended";
      pauseTask = null;
      ev("end", t);
    }
    function idle() {
      clearTimeout(idleTimer);
      if (!(o.idleAfter > 0) || d.visibilityState === "hidden") return;
      if (state === "paused") resume();
      idleTimer = setTimeout(guard(() => pause(now())), o.idleAfter);
    }
    function hidden() {
      const t = now();
      if (since !== null) seen += t - since, since = null;
      trackPage();
      if (state !== "on") return;
      state = "paused";
      pausedAt = t;
      pauseAcked = false;
      // Sent in a task of its own: on a close, pagehide comes first and ends instead.
      const ch = (pauseTask = new MessageChannel());
      ch.port1.onmessage = guard(() => {
        if (pauseTask === ch) pauseTask = null, ev("pause", t, paused);
      });
      ch.port2.postMessage(0);
    }
    function visible() {
      if (since === null) since = now();
      if (state !== "init") resume();
      idle();
    }

    const on = (t, type, fn) => t.addEventListener(type, guard(fn), { capture: true, passive: true });
    on(d, "visibilitychange", () => (d.visibilityState === "hidden" ? hidden() : visible()));
    on(w, "pagehide", (e) => {
      leaving = true;
      hidden();
      if (!e.persisted) end();
      else if (pauseTask) ev("pause", pausedAt, paused); // into the bfcache
      pauseTask = null;
      flush();
      leaving = false;
    });
    on(w, "pageshow", (e) => e.persisted && d.visibilityState !== "hidden" && visible());
    for (const type of ["pointerdown", "keydown", "scroll", "mousemove"]) on(w, type, idle);
    for (const m of ["pushState", "replaceState"]) {
      const orig = history[m];
      history[m] = function (...a) {
        const r = orig.apply(this, a);
        guard(route)();
        return r;
      };
    }
    on(w, "popstate", route);
    if (o.hash) on(w, "hashchange", route);

    page = path();
    if (d.visibilityState !== "hidden") since = now();
    const t0 = now();
    if (signed) getToken().then(guard(() => start(t0)), log);
    idle();
    return { end: guard(end) };
  }

  let one = null;
  function init(o) {
    try {
      if (!one && o && o.app && !(o.respectDnt && (nav.doNotTrack === "1" || nav.globalPrivacyControl))) one = create(o);
    } catch (e) { if (o && o.debug) console.debug("[sessionserver]", e); }
    return one;
  }
  w.SessionServer = { init };
  const ds = me && me.dataset;
  if (ds && ds.app) {
    init({ app: ds.app, endpoint: ds.endpoint, hash: "hash" in ds, debug: "debug" in ds,
      respectDnt: "respectDnt" in ds, idleAfter: +ds.idleAfter || 0 });
  }
})();
