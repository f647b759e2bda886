// The site's only script, served from /static so the Content-Security-Policy allows no inline code.
"use strict";

// Forms that need a second thought carry data-confirm="question".
document.addEventListener("submit", function (event) {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// A session's daily timetable, once published (session page). The page gives, in its language, the
// names of the half-days and each day of the session as it writes dates (data-labels); the API gives
// ISO dates and half-day numbers.
async function loadTimetable(box) {
  const r = await fetch(box.dataset.url, {headers: {"Accept": "application/json"}});
  if (!r.ok) return;
  const data = await r.json();
  if (!data.published) return;
  const labels = JSON.parse(box.dataset.labels || "{}");
  const days = labels.days || {}, halves = labels.halves || [];
  const body = box.querySelector("tbody");
  for (const m of data.modules) {
    const tr = document.createElement("tr");
    const time = (m.half_days === 2 ? labels.whole_day : halves[m.half]) || m.time;
    for (const text of [days[m.day] || m.day, time, m.module, m.classroom]) {
      const td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  box.hidden = false;
}

// A planning run's progress, polled until it ends (run page).
// The best objective so far (solid) and the proven lower bound so far (dashed), against the elapsed
// seconds, on one scale (no library needed). A point is [elapsed, best, bound or null].
function drawChart(points) {
  const best = document.querySelector("#chart polyline.best");
  const bound = document.querySelector("#chart polyline.bound");
  if (!best || points.length === 0) return;
  const xs = points.map(p => p[0]);
  const ys = points.flatMap(p => p[2] === null ? [p[1]] : [p[1], p[2]]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1), y0 = Math.min(...ys), y1 = Math.max(...ys, y0 + 1);
  const at = (x, y) => (5 + 290 * (x - x0) / (x1 - x0)).toFixed(1) + "," + (95 - 90 * (y - y0) / (y1 - y0)).toFixed(1);
  best.setAttribute("points", points.map(p => at(p[0], p[1])).join(" "));
  if (bound) bound.setAttribute("points", points.filter(p => p[2] !== null).map(p => at(p[0], p[2])).join(" "));
}

function watchRun(box) {
  const labels = {queued: "待機中", running: "計算中", done: "完了", failed: "失敗"};
  const history = [];
  const bar = document.getElementById("elapsed");
  async function poll() {
    const r = await fetch(box.dataset.url, {headers: {"Accept": "application/json"}});
    if (!r.ok) return setTimeout(poll, 2000);
    const run = await r.json();
    document.getElementById("status").textContent = labels[run.status] || run.status;
    const finished = run.status === "done" || run.status === "failed";
    const parts = [];
    for (const kind of ["rooms", "practicum"]) {
      const p = run.progress[kind];
      // while it runs the objective is the best so far; once done it is the result
      if (p) parts.push((kind === "rooms" ? "部屋割り" : "実習先") + ": " + (finished ? "評価値 " : "暫定の評価値 ")
        + p.best_objective + (p.best_bound === null || p.best_bound === undefined ? "" : "、下限 " + p.best_bound)
        + "（" + p.elapsed + " 秒経過）");
    }
    if (run.error) parts.push(run.error);
    document.getElementById("detail").textContent = parts.join(" ／ ");
    let elapsed = 0, best = null, bound = 0;
    for (const kind of ["rooms", "practicum", "timetable"]) {
      const p = run.progress[kind];
      if (p) {
        elapsed = Math.max(elapsed, p.elapsed || 0);
        best = (best || 0) + (p.best_objective || 0);
        // a kind that proves no bound while it runs leaves the total without one
        bound = (bound === null || p.best_bound === null || p.best_bound === undefined) ? null : bound + p.best_bound;
      }
    }
    if (bar) {
      bar.value = finished ? bar.max : Math.min(elapsed, bar.max);
      document.getElementById("elapsed-text").textContent = finished ? "終了" : elapsed.toFixed(1) + " 秒";
    }
    if (best !== null && (history.length === 0 || history[history.length - 1][0] !== elapsed)) {
      history.push([elapsed, best, bound]);
      drawChart(history);
    }
    if (run.status === "done") {
      document.getElementById("more-time").hidden = !(run.progress.timed_out || []).length;
      const list = document.getElementById("plans");
      list.textContent = "";
      const kindNames = {rooms: "部屋割り", practicum: "企業実習先", timetable: "時間割・講師"};
      const kinds = run.progress.plan_kinds || [];
      (run.progress.plans || []).forEach(function (id, k) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = "/staff/plans/" + id;
        a.textContent = (kindNames[kinds[k]] ? kindNames[kinds[k]] + "の" : "") + "計画 #" + id + " を見る";
        li.appendChild(a); list.appendChild(li);
      });
      return;
    }
    if (run.status !== "failed") setTimeout(poll, 1000);
  }
  poll();
}

// A wide table scrolls sideways in its .table-scroll box: the box takes the keyboard focus (arrow keys
// scroll it) and is a region named after the table's caption or the heading above it (WCAG 2.1.1),
// in the page's language (the body's data-table-name and data-table-suffix).
function labelScrollBoxes() {
  const words = document.body.dataset;
  for (const box of document.querySelectorAll(".table-scroll")) {
    box.tabIndex = 0;
    box.setAttribute("role", "region");
    if (box.hasAttribute("aria-label") || box.hasAttribute("aria-labelledby")) continue;
    const caption = box.querySelector("caption");
    let heading = box.previousElementSibling;
    while (heading && !/^H[1-6]$/.test(heading.tagName)) heading = heading.previousElementSibling;
    const name = (caption || heading || {}).textContent;
    box.setAttribute("aria-label", name ? name.trim() + (words.tableSuffix || "") : words.tableName || "");
  }
}

document.addEventListener("DOMContentLoaded", function () {
  labelScrollBoxes();
  const timetable = document.getElementById("daily-timetable");
  if (timetable && timetable.dataset.url) loadTimetable(timetable);
  const progress = document.getElementById("progress");
  if (progress && progress.dataset.url) watchRun(progress);
});

// A secret that an email link carries in its fragment (#...) is put into the form and POSTed at
// once; the fragment is then removed, so the secret stays out of the history and of every URL.
for (const form of document.querySelectorAll("form[data-fragment-secret]")) {
  const secret = decodeURIComponent(window.location.hash.slice(1));
  if (!secret) continue;
  form.elements[form.dataset.fragmentSecret].value = secret;
  history.replaceState(null, "", window.location.pathname);
  if (form.dataset.autoSubmit !== "false") form.submit();
}
