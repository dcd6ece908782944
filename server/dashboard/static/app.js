/* HomeSafe operator dashboard: a live board of unresolved alerts, an alert's timeline with acknowledge and
 * resolve, and the visiting-care reports. Plain JavaScript, no build step, nothing loaded from elsewhere.
 *
 * Rules this file keeps: the API token lives in sessionStorage only (never in a URL or in lasting storage); nothing
 * personal goes into a URL or the console; every request carries `Authorization: Bearer <token>`; a 401
 * anywhere returns to sign-in.
 *
 * The same file also runs as a tiny Web Worker that only ticks: timers in a background tab are throttled to
 * once a minute, worker messages are not, so a board left behind another tab still updates its title. */
"use strict";

if (typeof document === "undefined") {
  // Worker mode: one tick a second, nothing else.
  setInterval(() => postMessage("tick"), 1000);
} else {
  (() => {
    const TOKEN_KEY = "homesafe.token";
    const POLL_EVERY_TICKS = 2; // the board refreshes every 2 s
    const BOARD_LIMIT = 200;
    const REQUEST_TIMEOUT_MS = 10000;
    const SEVERITY_RANK = { critical: 0, high: 1, maintenance: 2 };
    const WAITING = new Set(["open", "notified"]); // nobody has taken the alert yet
    const OUTCOME_LABELS = {
      real_emergency: "real emergency",
      resident_fine: "resident fine",
      false_alarm: "false alarm",
      device_fault: "device fault",
      other: "other",
    };
    const BASE_TITLE = "HomeSafe alerts";

    const $ = (id) => document.getElementById(id);

    /** An answer of the API that was not 2xx, with the server's own words. */
    class ApiError extends Error {
      constructor(status, detail) {
        super(detail);
        this.status = status;
        this.detail = detail;
      }
    }

    const state = {
      token: null,
      generation: 0, // bumped at sign-out: answers of an older session are dropped
      alerts: new Map(), // id -> alert, the unresolved ones on the board
      rows: new Map(), // id -> <tr>
      seen: new Set(), // ids already shown once: only new critical ones flash
      selected: null, // id of the alert in the detail panel
      detail: null,
      timelineSignature: "",
      ticks: 0,
      polling: false,
      lastUpdate: null,
      reportsLoaded: false,
      plotUrl: null,
    };

    // ---- talking to the API ----------------------------------------------------------------------------

    function detailText(body, status) {
      if (body && typeof body.detail === "string") return body.detail;
      if (body && Array.isArray(body.detail)) {
        // FastAPI validation errors: name the field.
        return body.detail
          .map((e) => `${(e.loc || []).filter((p) => p !== "body").join(".")}: ${e.msg}`)
          .join("; ");
      }
      return `HTTP ${status}`;
    }

    async function api(path, { method = "GET", json, accept = "application/json", token = state.token } = {}) {
      const headers = { Authorization: `Bearer ${token}`, Accept: accept, "X-HomeSafe-Channel": "web" };
      const init = { method, headers, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };
      if (json !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(json);
      }
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
      init.signal = abort.signal;
      let response;
      try {
        response = await fetch(path, init);
      } finally {
        clearTimeout(timer);
      }
      if (response.ok) return response;
      let body = null;
      try {
        body = await response.json();
      } catch (_) {
        body = null;
      }
      const error = new ApiError(response.status, detailText(body, response.status));
      if (response.status === 401 && token === state.token && state.token !== null) {
        signOut("Your token was not accepted any more. Sign in again.");
      }
      throw error;
    }

    async function apiJson(path, options) {
      return (await api(path, options)).json();
    }

    // ---- time ------------------------------------------------------------------------------------------

    function parseTime(value) {
      if (!value) return null;
      // The API writes UTC; a timestamp without an offset is UTC too, not local time.
      const text = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`;
      const date = new Date(text);
      return Number.isNaN(date.getTime()) ? null : date;
    }

    function age(since, now) {
      if (!since) return "";
      const s = Math.max(0, Math.floor((now - since) / 1000));
      if (s < 60) return `${s} s`;
      const m = Math.floor(s / 60);
      if (m < 60) return `${m} min`;
      const h = Math.floor(m / 60);
      if (h < 24) return `${h} h ${String(m % 60).padStart(2, "0")} min`;
      return `${Math.floor(h / 24)} d ${h % 24} h`;
    }

    function clock(date) {
      // 24-hour time, and the date only when it is not today: "03:12:45", "23 Nov 22:40:03".
      if (!date) return "";
      const time = date.toLocaleTimeString(undefined, {
        hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
      });
      if (date.toDateString() === new Date().toDateString()) return time;
      return `${date.toLocaleDateString(undefined, { day: "numeric", month: "short" })} ${time}`;
    }

    // ---- sign-in ---------------------------------------------------------------------------------------

    function show(element, visible) {
      element.hidden = !visible;
    }

    function setText(element, text) {
      if (element.textContent !== text) element.textContent = text;
    }

    function say(element, text) {
      setText(element, text || "");
      show(element, Boolean(text));
    }

    async function signIn(token) {
      const me = await apiJson("/dashboard/me", { token });
      state.token = token;
      sessionStorage.setItem(TOKEN_KEY, token);
      const scope = me.communities ? ` · ${me.communities.join(", ")}` : "";
      setText($("role"), `${me.role}${scope}`);
      $("role").title = `Signed in as ${me.key}`;
      show($("who"), true);
      show($("signin"), false);
      show($("app"), true);
      $("token").value = "";
      startTicking();
      poll();
    }

    function signOut(message) {
      state.generation += 1;
      state.token = null;
      sessionStorage.removeItem(TOKEN_KEY);
      // Nothing of the last session stays on screen.
      state.alerts.clear();
      state.rows.clear();
      state.seen.clear();
      state.selected = null;
      state.detail = null;
      state.reportsLoaded = false;
      $("board-rows").replaceChildren();
      $("timeline-rows").replaceChildren();
      $("rates").replaceChildren();
      $("overdue").replaceChildren();
      if (state.plotUrl) URL.revokeObjectURL(state.plotUrl);
      state.plotUrl = null;
      $("plot").removeAttribute("src");
      show($("detail"), false);
      show($("app"), false);
      show($("who"), false);
      show($("signin"), true);
      document.title = BASE_TITLE;
      say($("signin-error"), message || "");
      $("token").focus();
    }

    async function onSignIn(event) {
      event.preventDefault();
      const token = $("token").value.trim();
      if (!token) {
        say($("signin-error"), "Paste your API token first.");
        $("token").focus();
        return;
      }
      $("signin-button").disabled = true;
      say($("signin-error"), "");
      try {
        await signIn(token);
      } catch (error) {
        const text = error instanceof ApiError && error.status === 401
          ? "That token was not accepted: it is unknown, expired or revoked."
          : `Cannot sign in: ${error instanceof ApiError ? error.detail : "the server cannot be reached."}`;
        say($("signin-error"), text);
        $("token").select();
      } finally {
        $("signin-button").disabled = false;
      }
    }

    // ---- the live board --------------------------------------------------------------------------------

    function alertTime(alert) {
      return parseTime(alert.last_event_at) || parseTime(alert.opened_at);
    }

    function boardOrder(a, b) {
      const bySeverity = (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9);
      if (bySeverity !== 0) return bySeverity;
      return (alertTime(b) || 0) - (alertTime(a) || 0);
    }

    function cell(label, className) {
      const td = document.createElement("td");
      td.dataset.label = label;
      if (className) td.className = className;
      return td;
    }

    function newRow(alert) {
      const tr = document.createElement("tr");
      tr.dataset.id = alert.id;
      const severity = cell("Severity", "severity");
      const badge = document.createElement("span");
      badge.className = "badge";
      severity.append(badge);
      const refCell = cell("Ref", "ref");
      const open = document.createElement("button");
      open.type = "button";
      open.className = "open";
      refCell.append(open);
      tr.append(
        severity, cell("Home", "home"), cell("Type", "type"), cell("Status", "status"),
        refCell, cell("Age", "age"), cell("Events", "events"),
      );
      tr.addEventListener("click", (event) => {
        if (event.target.closest("button") !== open) openDetail(alert.id);
      });
      open.addEventListener("click", () => openDetail(alert.id));
      tr.addEventListener("animationend", () => tr.classList.remove("flash"));
      return tr;
    }

    function fillRow(tr, alert, now) {
      const [severity, home, type, status, ref, ageCell, events] = tr.children;
      tr.className = tr.className.replace(/\bsev-\S+|\bwaiting\b|\bselected\b/g, "").trim();
      tr.classList.add(`sev-${alert.severity}`);
      if (WAITING.has(alert.status)) tr.classList.add("waiting");
      else tr.classList.remove("flash"); // someone has it: stop calling for attention
      if (alert.id === state.selected) tr.classList.add("selected");
      setText(severity.firstChild, alert.severity);
      setText(home, alert.home);
      setText(type, alert.type);
      setText(status, alert.status);
      setText(ref.firstChild, alert.ref);
      ref.firstChild.setAttribute("aria-label", `Open alert ${alert.ref}, ${alert.severity} ${alert.type}, home ${alert.home}`);
      ageCell.dataset.since = alert.opened_at;
      setText(ageCell, age(parseTime(alert.opened_at), now));
      setText(events, String(alert.count ?? 1));
    }

    function renderBoard(list) {
      const now = Date.now();
      const unresolved = list.filter((a) => a.status !== "resolved").sort(boardOrder);
      const ids = new Set(unresolved.map((a) => a.id));
      for (const [id, tr] of state.rows) {
        if (!ids.has(id)) {
          tr.remove();
          state.rows.delete(id);
        }
      }
      state.alerts = new Map(unresolved.map((a) => [a.id, a]));
      const body = $("board-rows");
      unresolved.forEach((alert, index) => {
        let tr = state.rows.get(alert.id);
        if (!tr) {
          tr = newRow(alert);
          state.rows.set(alert.id, tr);
          if (alert.severity === "critical" && WAITING.has(alert.status) && !state.seen.has(alert.id)) {
            tr.classList.add("flash");
          }
        }
        state.seen.add(alert.id);
        fillRow(tr, alert, now);
        // Move only what is out of place: re-inserting every row would restart the flash.
        if (body.children[index] !== tr) body.insertBefore(tr, body.children[index] || null);
      });
      setText($("open-count"), String(unresolved.length));
      show($("board-empty"), unresolved.length === 0);
      show($("board"), unresolved.length > 0);
      const waitingCritical = unresolved.filter((a) => a.severity === "critical" && WAITING.has(a.status)).length;
      document.title = waitingCritical > 0 ? `(${waitingCritical}) critical · ${BASE_TITLE}` : BASE_TITLE;
    }

    function tickAges() {
      const now = Date.now();
      for (const td of document.querySelectorAll("#board-rows td.age")) {
        setText(td, age(parseTime(td.dataset.since), now));
      }
      if (state.lastUpdate) setText($("updated"), `Updated ${age(state.lastUpdate, now)} ago`);
    }

    function setConnection(problem) {
      if (problem) {
        const last = state.lastUpdate ? ` Last good update: ${clock(state.lastUpdate)}.` : "";
        say($("connection"), `${problem} Retrying every 2 seconds.${last}`);
      } else {
        say($("connection"), "");
      }
    }

    async function poll() {
      if (state.polling || state.token === null) return;
      state.polling = true;
      const generation = state.generation;
      try {
        const list = await apiJson(`/api/alerts?limit=${BOARD_LIMIT}`);
        if (generation !== state.generation) return;
        renderBoard(list);
        state.lastUpdate = new Date();
        setConnection(null);
        if (state.selected) await refreshDetail(generation);
      } catch (error) {
        if (generation !== state.generation) return;
        if (error instanceof ApiError) {
          if (error.status !== 401) setConnection(`The alert list could not be loaded (${error.detail}).`);
        } else {
          setConnection("Cannot reach the server.");
        }
      } finally {
        state.polling = false;
        tickAges();
      }
    }

    let ticker = null;

    function startTicking() {
      if (ticker) return;
      const onTick = () => {
        if (state.token === null) return;
        state.ticks += 1;
        tickAges();
        if (state.ticks % POLL_EVERY_TICKS === 0) poll();
      };
      try {
        ticker = new Worker("app.js");
        ticker.onmessage = onTick;
      } catch (_) {
        ticker = setInterval(onTick, 1000);
      }
    }

    // ---- one alert -------------------------------------------------------------------------------------

    function fact(list, name, value) {
      if (value === null || value === undefined || value === "") return;
      const dt = document.createElement("dt");
      dt.textContent = name;
      const dd = document.createElement("dd");
      dd.textContent = value;
      list.append(dt, dd);
    }

    function renderDetail(alert) {
      state.detail = alert;
      setText($("detail-title"), `${alert.severity} ${alert.type} · home ${alert.home} · ${alert.ref}`);
      $("detail").className = `detail sev-${alert.severity}`;
      const facts = document.createElement("dl");
      facts.id = "detail-facts";
      facts.className = "facts";
      fact(facts, "Status", alert.status);
      fact(facts, "Opened", clock(parseTime(alert.opened_at)));
      fact(facts, "Last event", clock(parseTime(alert.last_event_at)));
      fact(facts, "Events merged", String(alert.count ?? 1));
      fact(facts, "Device", alert.device);
      fact(facts, "Category", alert.category);
      if (alert.acknowledged_at) {
        const how = alert.ack_channel ? ` via ${alert.ack_channel}` : "";
        fact(facts, "Acknowledged", `${clock(parseTime(alert.acknowledged_at))} by ${alert.acknowledged_by}${how}`);
      }
      if (alert.resolved_at) {
        const outcome = OUTCOME_LABELS[alert.outcome] || alert.outcome;
        fact(facts, "Resolved", `${clock(parseTime(alert.resolved_at))} by ${alert.resolved_by}: ${outcome}`);
        fact(facts, "Note", alert.note);
      }
      $("detail-facts").replaceWith(facts);

      const resolved = alert.status === "resolved";
      const acked = alert.status === "acknowledged";
      $("ack-button").disabled = resolved || acked;
      setText($("ack-button"), acked ? "Acknowledged" : "Acknowledge");
      for (const control of $("resolve-form").elements) control.disabled = resolved;
      show($("actions"), !resolved);

      const entries = alert.timeline || [];
      const signature = JSON.stringify(entries);
      if (signature !== state.timelineSignature) {
        state.timelineSignature = signature;
        const rows = entries.map((entry) => {
          const tr = document.createElement("tr");
          const what = entry.entry === "notification" ? "notification" : entry.kind.replaceAll("_", " ");
          const values = [
            ["Time", clock(parseTime(entry.at))],
            ["Step", entry.step === null || entry.step === undefined ? "" : String(entry.step + 1)],
            ["What", entry.detail ? `${what}: ${entry.detail}` : what],
            ["Recipient", entry.recipient || entry.actor || ""],
            ["Channel", entry.channel || ""],
            ["Status", entry.status],
          ];
          for (const [label, value] of values) {
            const td = cell(label);
            td.textContent = value;
            tr.append(td);
          }
          return tr;
        });
        $("timeline-rows").replaceChildren(...rows);
      }
    }

    async function refreshDetail(generation = state.generation) {
      const id = state.selected;
      if (!id) return;
      try {
        const alert = await apiJson(`/api/alerts/${encodeURIComponent(id)}`);
        if (generation === state.generation && state.selected === id) renderDetail(alert);
      } catch (error) {
        if (generation !== state.generation || state.selected !== id) return;
        if (error instanceof ApiError && error.status !== 401) say($("detail-error"), plainError("load this alert", error));
      }
    }

    async function openDetail(id) {
      if (state.selected !== id) {
        state.selected = id;
        state.timelineSignature = "";
        $("timeline-rows").replaceChildren();
        $("resolve-form").reset();
        say($("detail-message"), "");
        say($("detail-error"), "");
      }
      for (const [rowId, tr] of state.rows) tr.classList.toggle("selected", rowId === id);
      show($("detail"), true);
      const known = state.alerts.get(id);
      if (known) renderDetail({ ...known, timeline: [] });
      $("detail-title").focus();
      await refreshDetail();
    }

    function closeDetail() {
      const id = state.selected;
      state.selected = null;
      state.detail = null;
      show($("detail"), false);
      for (const tr of state.rows.values()) tr.classList.remove("selected");
      const row = id && state.rows.get(id);
      if (row) row.querySelector("button.open").focus();
    }

    function plainError(what, error) {
      if (!(error instanceof ApiError)) return `Could not ${what}: the server cannot be reached. Try again.`;
      if (error.status === 403) return `Not allowed to ${what}: ${error.detail}.`;
      if (error.status === 404) return `Could not ${what}: ${error.detail}.`;
      if (error.status === 409) return `Could not ${what}: ${error.detail}.`;
      return `Could not ${what} (HTTP ${error.status}): ${error.detail}.`;
    }

    async function act(what, button, request, done) {
      const id = state.selected;
      if (!id) return;
      say($("detail-message"), "");
      say($("detail-error"), "");
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      try {
        await request(id);
        say($("detail-message"), done);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 401)) say($("detail-error"), plainError(what, error));
      } finally {
        button.removeAttribute("aria-busy");
        button.disabled = false;
        await refreshDetail();
        poll();
      }
    }

    function onAcknowledge() {
      act("acknowledge", $("ack-button"), (id) => api(`/api/alerts/${encodeURIComponent(id)}/ack`, { method: "POST" }),
        "Acknowledged: the ladder has stopped.");
    }

    function onResolve(event) {
      event.preventDefault();
      const outcome = $("outcome").value;
      if (!outcome) {
        say($("detail-error"), "Choose an outcome before resolving.");
        $("outcome").focus();
        return;
      }
      const note = $("note").value.trim();
      act("resolve", $("resolve-button"),
        (id) => api(`/api/alerts/${encodeURIComponent(id)}/resolve`, { method: "POST", json: { outcome, note: note || null } }),
        `Resolved: ${OUTCOME_LABELS[outcome]}.`);
    }

    // ---- reports ---------------------------------------------------------------------------------------
    // Known shapes get named columns; anything else still shows, as a generic table of its scalar fields.

    function percent(value) {
      if (value === null || value === undefined) return "—";
      const p = value <= 1.5 ? value * 100 : value; // a fraction (0.95) or already a percentage (95)
      return `${p.toFixed(p % 1 === 0 ? 0 : 1)}%`;
    }

    const RATE_COLUMNS = [
      ["community", "Community", (v) => (v === "*" ? "All communities" : v)],
      ["duty", "Residents with a visiting duty"],
      ["visited", "Visited"],
      ["unvisited", "Not yet visited"],
      ["rate", "Rate", percent],
      ["target", "Target", percent],
    ];
    const OVERDUE_COLUMNS = [
      ["home", "Home"],
      ["community", "Community"],
      ["category", "Category", (v) => String(v).replaceAll("_", " ")],
      ["visitors", "Visitor", (list) => (list || []).map((v) => v.name || `responder ${v.responder_id}`).join(", ") || "none assigned"],
      ["last_visit_at", "Last visit", (t) => (t ? clock(parseTime(t)) : "never")],
      ["days_since_last_visit", "Days since", (d) => (d === null || d === undefined ? "never visited" : String(d))],
    ];

    function rowsOf(data, key) {
      if (Array.isArray(data)) return data;
      if (data && Array.isArray(data[key])) return data[key];
      if (data && typeof data === "object") {
        for (const value of Object.values(data)) if (Array.isArray(value)) return value;
      }
      return [];
    }

    function isScalar(value) {
      return value === null || ["string", "number", "boolean"].includes(typeof value);
    }

    function genericColumns(rows) {
      const keys = [];
      for (const row of rows) {
        for (const [key, value] of Object.entries(row)) if (isScalar(value) && !keys.includes(key)) keys.push(key);
      }
      return keys.map((key) => [key, key.replaceAll("_", " "), (v) => (/rate|target/i.test(key) && typeof v === "number" ? percent(v) : v === null ? "" : String(v))]);
    }

    function renderTable(table, rows, known, emptyText) {
      if (rows.length === 0) {
        const tr = document.createElement("tr");
        const td = document.createElement("td");
        td.className = "empty";
        td.textContent = emptyText;
        tr.append(td);
        table.replaceChildren(tr);
        return;
      }
      const columns = known.every(([key]) => key in rows[0]) ? known : genericColumns(rows);
      const head = document.createElement("thead");
      const headRow = document.createElement("tr");
      for (const [, label] of columns) {
        const th = document.createElement("th");
        th.scope = "col";
        th.textContent = label;
        headRow.append(th);
      }
      head.append(headRow);
      const body = document.createElement("tbody");
      for (const row of rows) {
        const tr = document.createElement("tr");
        if (typeof row.rate === "number" && typeof row.target === "number" && row.rate < row.target) tr.className = "below";
        if (row.community === "*") tr.classList.add("total");
        for (const [key, label, format] of columns) {
          const td = cell(label);
          const value = row[key];
          td.textContent = format ? format(value) : value === null || value === undefined ? "" : String(value);
          tr.append(td);
        }
        body.append(tr);
      }
      table.replaceChildren(head, body);
    }

    function isMissing(result) {
      return result.status === "rejected" && result.reason instanceof ApiError && result.reason.status === 404;
    }

    async function loadReports() {
      const generation = state.generation;
      const month = $("month").value;
      const status = $("reports-status");
      say(status, "Loading reports…");
      const results = await Promise.allSettled([
        apiJson(`/api/reports/visits?month=${encodeURIComponent(month)}`),
        apiJson("/api/reports/visits/overdue"),
        api("/api/reports/visits.png?months=6", { accept: "image/png" }).then((r) => r.blob()),
      ]);
      if (generation !== state.generation) return;
      const [rates, overdue, plot] = results;
      const unavailable = "Reports unavailable: this server does not provide visit reports yet.";
      if (results.every(isMissing)) {
        say(status, unavailable);
      } else {
        const failed = results.filter((r) => r.status === "rejected" && !isMissing(r));
        say(status, failed.map((r) => plainError("load a report", r.reason)).join(" "));
      }
      if (rates.status === "fulfilled") {
        const report = rates.value;
        const rows = rowsOf(report, "communities");
        const all = report && report.total && rows.length > 1 ? [...rows, report.total] : rows;
        const zone = report && report.timezone ? ` (${report.timezone})` : "";
        setText($("rates-title"), `Visit rate per community, ${report.month || month}${zone}`);
        renderTable($("rates"), all, RATE_COLUMNS, "Nobody has a visiting duty this month.");
      } else {
        setText($("rates-title"), "Visit rate per community");
        renderTable($("rates"), [], [], isMissing(rates) ? "Reports unavailable." : "Could not be loaded.");
      }
      if (overdue.status === "fulfilled") {
        renderTable($("overdue"), rowsOf(overdue.value, "residents"), OVERDUE_COLUMNS, "Nobody is overdue.");
      } else {
        renderTable($("overdue"), [], [], isMissing(overdue) ? "Reports unavailable." : "Could not be loaded.");
      }
      if (state.plotUrl) URL.revokeObjectURL(state.plotUrl);
      state.plotUrl = null;
      if (plot.status === "fulfilled") {
        state.plotUrl = URL.createObjectURL(plot.value);
        $("plot").src = state.plotUrl;
        show($("plot"), true);
      } else {
        $("plot").removeAttribute("src");
        show($("plot"), false);
      }
      state.reportsLoaded = true;
    }

    // ---- tabs ------------------------------------------------------------------------------------------

    const TABS = [
      { tab: "tab-alerts", panel: "view-alerts" },
      { tab: "tab-reports", panel: "view-reports" },
    ];

    function selectTab(tabId, focus) {
      for (const { tab, panel } of TABS) {
        const on = tab === tabId;
        $(tab).setAttribute("aria-selected", String(on));
        $(tab).tabIndex = on ? 0 : -1;
        show($(panel), on);
      }
      if (focus) $(tabId).focus();
      if (tabId === "tab-reports" && !state.reportsLoaded) loadReports();
    }

    function onTabKey(event) {
      const index = TABS.findIndex(({ tab }) => tab === event.target.id);
      if (index < 0) return;
      let next = null;
      if (event.key === "ArrowRight") next = (index + 1) % TABS.length;
      if (event.key === "ArrowLeft") next = (index - 1 + TABS.length) % TABS.length;
      if (event.key === "Home") next = 0;
      if (event.key === "End") next = TABS.length - 1;
      if (next === null) return;
      event.preventDefault();
      selectTab(TABS[next].tab, true);
    }

    // ---- start -----------------------------------------------------------------------------------------

    function thisMonth() {
      const now = new Date();
      return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
    }

    function start() {
      $("signin-form").addEventListener("submit", onSignIn);
      $("sign-out").addEventListener("click", () => signOut("Signed out."));
      $("detail-close").addEventListener("click", closeDetail);
      $("ack-button").addEventListener("click", onAcknowledge);
      $("resolve-form").addEventListener("submit", onResolve);
      $("report-form").addEventListener("submit", (event) => {
        event.preventDefault();
        loadReports();
      });
      for (const { tab } of TABS) {
        $(tab).addEventListener("click", () => selectTab(tab, false));
        $(tab).addEventListener("keydown", onTabKey);
      }
      document.addEventListener("keydown", (event) => {
        if (event.key === "Escape" && state.selected) closeDetail();
      });
      $("month").value = thisMonth();

      const saved = sessionStorage.getItem(TOKEN_KEY);
      if (saved) {
        signIn(saved).catch((error) => {
          if (error instanceof ApiError && error.status === 401) {
            signOut("Your token was not accepted any more. Sign in again.");
          } else {
            // Keep the token: the server may only be restarting. The board retries by itself.
            state.token = saved;
            show($("signin"), false);
            show($("app"), true);
            show($("who"), true);
            setText($("role"), "role unknown");
            startTicking();
            setConnection("Cannot reach the server.");
          }
        });
      } else {
        $("token").focus();
      }
    }

    start();
  })();
}
