// Shipyard UI: column choice (kept in a cookie), live runs, live run pages and their node
// logs. No library.
"use strict";
(() => {
  const COOKIE = "shipyard-columns";

  // Columns: a ticked box adds a parameter or metric column; the choice is kept for a year.
  for (const box of document.querySelectorAll("input[data-column]")) {
    box.addEventListener("change", () => {
      const chosen = [...document.querySelectorAll("input[data-column]:checked")]
        .map((b) => b.dataset.column);
      document.cookie = `${COOKIE}=${encodeURIComponent(chosen.join(","))}; path=/; ` +
        "max-age=31536000; SameSite=Lax";
      location.reload();
    });
  }

  const seconds = (s) => {
    if (s === null || s === undefined) return "";
    if (s < 60) return `${s.toFixed(2)} s`;
    const m = Math.floor(Math.round(s) / 60), r = Math.round(s) % 60;
    return m < 60 ? `${m} min ${String(r).padStart(2, "0")} s`
      : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
  };
  const setState = (scope, state) => {
    for (const el of scope.querySelectorAll("[data-cell=state] .state")) {
      el.dataset.state = state; el.textContent = state;
    }
  };

  // Runs page: while a row is running, read the same page from the API every 2 s.
  const table = document.querySelector("table.runs");
  const poll = async () => {
    if (!table.querySelector("tr[data-state=running]")) return;
    try {
      const answer = await fetch(table.dataset.live);
      if (answer.ok) {
        for (const run of await answer.json()) {
          const row = table.querySelector(`tr[data-run="${CSS.escape(run.id)}"]`);
          if (!row) continue;
          row.dataset.state = run.state;
          setState(row, run.state);
          row.querySelector("[data-cell=duration]").textContent = seconds(run.duration_s);
          for (const [name, value] of Object.entries(run.metrics)) {
            const cell = row.querySelector(`[data-cell="m:${CSS.escape(name)}"]`);
            if (cell) cell.textContent = Number(value.toPrecision(4)).toString();
          }
        }
      }
    } finally { setTimeout(poll, 2000); }
  };
  if (table) setTimeout(poll, 2000);

  // Run page: follow a running run's node states; reload once it has ended.
  const run = document.querySelector(".run[data-events]");
  if (run && window.EventSource) {
    const events = new EventSource(run.dataset.events);
    events.addEventListener("run", (message) => {
      const data = JSON.parse(message.data);
      for (const [name, node] of Object.entries(data.nodes)) {
        for (const el of document.querySelectorAll(`[data-node="${CSS.escape(name)}"]`)) {
          if (el.tagName.toLowerCase() === "details") setState(el, node.state);
          else el.dataset.state = node.state;
        }
      }
      if (data.state !== "running") { events.close(); location.reload(); }
    });
    // Each node's log: the first event of a node holds all its records so far (they replace
    // what the page was rendered with), the next ones the new records.
    const logs = new EventSource(run.dataset.logs), seen = new Set();
    logs.addEventListener("log", (message) => {
      const data = JSON.parse(message.data);
      const pre = document.querySelector(`pre[data-log="${CSS.escape(data.node)}"]`);
      if (!pre) return;
      if (!seen.has(data.node)) { seen.add(data.node); pre.textContent = ""; }
      const empty = pre.parentElement.querySelector("[data-log-empty]");
      if (empty) empty.remove();
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      for (const e of data.entries) {
        const line = document.createElement("span");
        line.dataset.level = e.level;
        line.textContent = `${e.time.slice(11, 23)} ${e.level.padEnd(7)} ${e.logger}: ${e.message}\n`;
        pre.append(line);
      }
      while (pre.childElementCount > 1000) pre.firstElementChild.remove();
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    });
    logs.addEventListener("end", () => logs.close());
  }

  // Models page: with a server, read /api/models every 2 s; a version's request rate is the
  // change in its request count between two reads.
  const models = document.querySelector(".models[data-models]");
  let lastRead = null;
  const readModels = async () => {
    try {
      const answer = await fetch(models.dataset.models);
      if (!answer.ok) return;
      const now = performance.now() / 1000;
      for (const model of (await answer.json()).models) {
        const table = models.querySelector(`table[data-model="${CSS.escape(model.name)}"]`);
        if (!table) continue;
        for (const version of model.versions) {
          const row = table.querySelector(`tr[data-version="${version.version}"]`);
          if (!row) continue;
          const figures = version.figures || {};
          const cell = (name) => row.querySelector(`[data-cell=${name}]`);
          const before = Number(cell("requests").textContent);
          cell("state").textContent = version.state || "";
          cell("requests").textContent = figures.requests ?? "";
          cell("errors").textContent = figures.errors ?? "";
          const ms = figures.mean_latency_ms;
          cell("latency").textContent = ms === null || ms === undefined ? "" : `${ms} ms`;
          if (lastRead !== null && figures.requests !== undefined) {
            const rate = Math.max(0, figures.requests - before) / (now - lastRead);
            cell("rate").textContent = rate.toFixed(1);
          }
        }
      }
      lastRead = now;
    } finally { setTimeout(readModels, 2000); }
  };
  if (models) readModels();

  // Sign-in page (the platform server): the form posts to the login API as JSON, which sets
  // the session cookie, then goes on to the page asked for; a refusal shows the server's
  // message (a wrong password, too many tries).
  const signIn = document.querySelector("form[data-login]");
  if (signIn) {
    signIn.addEventListener("submit", async (event) => {
      event.preventDefault();
      const alert = signIn.querySelector("[role=alert]"), fields = new FormData(signIn);
      const body = { name: fields.get("name"), password: fields.get("password"), session: true };
      const say = (text) => { alert.textContent = text; alert.hidden = false; };
      try {
        const answer = await fetch(signIn.dataset.login, {
          method: "POST", credentials: "same-origin", body: JSON.stringify(body),
          headers: { "Content-Type": "application/json", Accept: "application/json" },
        });
        if (answer.ok) { location.assign(signIn.dataset.next); return; }
        let detail = `The server answered ${answer.status}.`;
        try { detail = (await answer.json()).detail || detail; } catch { /* not JSON */ }
        say(detail);
      } catch (error) { say(`The server cannot be reached: ${error.message}`); }
    });
  }
  for (const button of document.querySelectorAll("button[data-sign-out]")) {
    button.addEventListener("click", async () => {
      await fetch(button.dataset.signOut, { method: "POST", credentials: "same-origin" });
      location.assign(button.dataset.then);
    });
  }

  // A link to a node opens its details.
  const openNode = () => {
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tagName.toLowerCase() === "details") target.open = true;
  };
  window.addEventListener("hashchange", openNode);
  openNode();
})();
