// Keeps the onboarding checklist (dashboard) and the write keys page current without a reload:
// every 2 seconds, while the tab is visible, it asks GET /api/businesses/{id}/onboarding (the URL
// in data-onboarding) and ticks the steps that are done, rewrites their status lines and says when
// the last event arrived; between answers that line counts on by itself. On the write keys page it
// also rewrites each key's last use. The pages are complete
// without it: a reload shows the same.
"use strict";
(() => {
  const box = document.querySelector("[data-onboarding]");
  if (!box) return;
  const url = box.dataset.onboarding;
  // Says a time in the past as the server does (web/onboarding.rs, `ago`).
  const ago = (s) => {
    s = Math.max(0, Math.floor(s));
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    if (s < 2 * 86400) return "1 day ago";
    return `${Math.floor(s / 86400)} days ago`;
  };
  // The last event's age as last told, and when it was told (monotonic clock).
  let last = null;
  const first = document.querySelector("[data-last-event][data-seconds]");
  if (first) last = { seconds: Number(first.dataset.seconds), at: performance.now() };

  function paint() {
    if (!last) return;
    const seconds = last.seconds + (performance.now() - last.at) / 1000;
    for (const line of document.querySelectorAll("[data-last-event]")) {
      line.textContent = `Last event received ${ago(seconds)}`;
      line.hidden = false;
    }
    for (const waiting of document.querySelectorAll("[data-waiting]")) waiting.hidden = true;
  }

  async function poll() {
    if (document.hidden) return;
    let answer;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } });
      if (!response.ok) return;
      answer = await response.json();
    } catch {
      return; // Offline for a moment: the next poll tries again.
    }
    for (const step of answer.steps) {
      const item = document.querySelector(`[data-step="${step.key}"]`);
      if (!item) continue;
      item.classList.toggle("done", step.done);
      item.dataset.done = String(step.done);
      const tick = item.querySelector("[data-tick]");
      if (tick) tick.textContent = step.done ? "✓" : "○";
      const status = item.querySelector("[data-step-status]");
      if (status) status.textContent = step.status;
    }
    for (const count of document.querySelectorAll("[data-done-count]")) count.textContent = String(answer.done);
    for (const events of document.querySelectorAll("[data-events]")) events.textContent = String(answer.events);
    if (answer.seconds_since_last_event !== null && answer.seconds_since_last_event !== undefined) {
      last = { seconds: answer.seconds_since_last_event, at: performance.now() };
    }
    paint();
    await pollKeys();
  }

  // On the write keys page: each key's last use, from GET /api/businesses/{id}/sources.
  async function pollKeys() {
    const table = document.querySelector("[data-sources]");
    if (!table) return;
    let keys;
    try {
      const response = await fetch(table.dataset.sources, { credentials: "same-origin", headers: { accept: "application/json" } });
      if (!response.ok) return;
      keys = await response.json();
    } catch {
      return;
    }
    const now = Date.now();
    for (const key of keys) {
      const cell = table.querySelector(`[data-key="${key.id}"] [data-testid=last-used]`);
      if (!cell || !key.last_used) continue;
      const at = new Date(key.last_used);
      const utc = at.toISOString().slice(0, 16).replace("T", " ");
      cell.textContent = `${ago((now - at.getTime()) / 1000)} (${utc} UTC)`;
    }
  }

  paint();
  setInterval(poll, 2000);
  setInterval(paint, 1000);
  document.addEventListener("visibilitychange", poll);
})();
