// The journey map editor without page reloads. Every control on the page is a plain form that
// works without this script; here the same forms are sent as JSON `MapEdit`s to
// POST /api/businesses/{id}/maps/{map}/edits with the session's CSRF token, and the page is
// brought up to date from the answer (the edited card's text) or by fetching the map's grid
// again (structural edits), never by navigating. Also: click a card (or Enter on it) to edit its
// text in place (Enter saves, Shift+Enter is a new line, Escape cancels), drag a stage's header
// onto another to move it there, and an emotion choice saves at once. Evidence is added and
// removed as an `edit_card` with the card's text and its evidence list changed; the quote picker's
// search box asks GET .../quotes?stage&q for the stage's feedback texts; removing a stage asks
// for confirmation in a dialog instead of the no-script checkbox.
"use strict";
(() => {
  const root = document.querySelector("[data-map-root]");
  if (!root) return;
  document.documentElement.classList.add("js");
  const csrf = root.dataset.csrf;
  // Without the token the page is read-only: nothing to do.
  if (!csrf) return;
  const endpoint = `/api/businesses/${root.dataset.business}/maps/${root.dataset.map}/edits`;
  const status = document.createElement("p");
  status.className = "map-status";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  status.dataset.testid = "map-status";
  root.before(status);
  const say = (text, failed) => {
    status.textContent = text;
    status.classList.toggle("error", Boolean(failed));
  };

  async function send(edit) {
    const response = await fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(edit),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error((body && body.error && body.error.message) || `the server answered ${response.status}`);
    const version = document.querySelector("[data-testid=map-version]");
    if (version && body) version.textContent = String(body.version);
    return body;
  }

  // Fetches this page again and swaps in its map, so every number and id is the server's.
  async function refresh(focus) {
    const response = await fetch(location.href, { credentials: "same-origin", headers: { accept: "text/html" } });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.querySelector("[data-map-root]");
    if (fresh) root.innerHTML = fresh.innerHTML;
    for (const selector of focus || []) {
      const element = root.querySelector(selector);
      if (element) {
        element.focus();
        break;
      }
    }
  }

  function editOf(form) {
    const data = new FormData(form);
    const op = data.get("op");
    const number = (name) => Number(data.get(name));
    switch (op) {
      case "add_card":
        return { op, stage: number("stage"), lane: data.get("lane"), text: data.get("text"), position: null };
      case "edit_card": {
        const card = form.closest("[data-card]");
        return { op, card: number("card"), text: data.get("text"), evidence: JSON.parse((card && card.dataset.evidence) || "[]") };
      }
      case "remove_card":
        return { op, card: number("card") };
      case "move_stage":
        return { op, stage: number("stage"), position: number("position") };
      case "add_stage":
        return { op, name: data.get("name"), position: null };
      case "set_emotion":
        return { op, stage: number("stage"), persona: data.get("persona") ? number("persona") : null, score: number("score") };
      case "add_evidence":
      case "remove_evidence": {
        // A survey score takes the stage of the card's column, which the server knows: that
        // form posts as it would without a script.
        if (op === "add_evidence" && data.get("kind") === "score") return null;
        const card = form.closest("[data-card]");
        const evidence = JSON.parse((card && card.dataset.evidence) || "[]");
        const text = card.querySelector(".text").textContent;
        if (op === "remove_evidence") {
          evidence.splice(number("index"), 1);
        } else {
          const kind = data.get("kind");
          const value = String(data.get("text") || "").trim();
          if (kind === "metric") evidence.push({ kind, name: value });
          else if (kind === "note") evidence.push({ kind, text: value });
          else evidence.push({ kind: "quote", feedback: number("feedback") });
        }
        return { op: "edit_card", card: number("card"), text, evidence };
      }
      case "pain_point_to_opportunity":
        return { op, card: number("card"), text: data.get("text") };
      case "set_action": {
        const optional = (name) => String(data.get(name) || "").trim() || null;
        const change = optional("change");
        return {
          op, card: number("card"),
          action: { owner: data.get("owner"), due: optional("due"), change: change === null ? null : Number(change), kpi: optional("kpi"), done: data.get("done") !== null },
        };
      }
      case "clear_action":
        return { op: "set_action", card: number("card"), action: null };
      case "rename_stage":
        return { op, stage: number("stage"), name: data.get("name") };
      case "remove_stage":
        return { op, stage: number("stage") };
      case "add_touchpoint":
      case "remove_touchpoint":
        return { op, stage: number("stage"), touchpoint: number("touchpoint") };
      default:
        return null;
    }
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-edit]");
    const edit = form && editOf(form);
    if (!edit) return;
    event.preventDefault();
    if (edit.op === "remove_stage") {
      const button = form.querySelector("[data-confirm]");
      if (!window.confirm((button && button.dataset.confirm) || "Remove this stage?")) return;
    }
    let focus = [];
    if (edit.op === "move_stage") {
      // Keyboard users keep their place: the same button of the moved stage, or its other one.
      const side = event.submitter && event.submitter.dataset.move;
      focus = [`.stage-head[data-stage="${edit.stage}"] [data-move="${side}"]`, `.stage-head[data-stage="${edit.stage}"] [data-move]`];
    } else if (edit.op === "add_card") {
      focus = [`.lane-cell[data-stage="${edit.stage}"][data-lane="${edit.lane}"] input[name=text]`];
    }
    say("Saving…");
    try {
      await send(edit);
      await refresh(focus);
      if (!root.contains(form)) form.reset();
      say("Saved.");
    } catch (error) {
      say(`Not saved: ${error.message}`, true);
    }
  });

  // The quote picker's search: the stage's feedback texts containing the words, from the API.
  const quotesUrl = `/api/businesses/${root.dataset.business}/maps/${root.dataset.map}/quotes`;
  const showSearchBoxes = () => {
    for (const box of root.querySelectorAll("[data-quote-search][hidden]")) box.hidden = false;
  };
  showSearchBoxes();
  new MutationObserver(showSearchBoxes).observe(root, { childList: true });
  let searchTimer = null;
  root.addEventListener("input", (event) => {
    const box = event.target.closest("[data-quote-search]");
    if (!box) return;
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const select = box.form.querySelector("select[name=feedback]");
      const button = box.form.querySelector("button[type=submit]");
      try {
        const url = `${quotesUrl}?stage=${encodeURIComponent(box.dataset.stage)}&q=${encodeURIComponent(box.value)}`;
        const response = await fetch(url, { credentials: "same-origin" });
        const body = await response.json();
        if (!response.ok) throw new Error((body.error && body.error.message) || `the server answered ${response.status}`);
        select.replaceChildren(...body.quotes.map((q) => {
          const option = document.createElement("option");
          option.value = String(q.feedback);
          const text = q.text.replace(/\s+/g, " ");
          option.textContent = `${q.compound >= 0 ? "+" : ""}${q.compound.toFixed(2)} ${text.length > 110 ? `${text.slice(0, 110)}…` : text}`;
          return option;
        }));
        if (button) button.disabled = body.quotes.length === 0;
        const count = box.form.querySelector("[data-testid=quote-count]");
        if (count) count.textContent = String(body.n);
        say(`${body.n} quotes match.`);
      } catch (error) {
        say(`Quotes not found: ${error.message}`, true);
      }
    }, 250);
  });

  root.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-autosubmit]");
    if (select) select.form.requestSubmit();
  });

  const LANES = ["goals", "actions", "thoughts", "pain_points", "opportunities"];
  const findCard = (map, id) => {
    for (const stage of (map && map.stages) || []) {
      for (const lane of LANES) {
        const card = (stage[lane] || []).find((c) => c.id === id);
        if (card) return card;
      }
    }
    return null;
  };

  function startEditing(text) {
    if (text.dataset.editing) return;
    const card = text.closest("[data-card]");
    const id = Number(card.dataset.card);
    const area = document.createElement("textarea");
    area.className = "inline-editor";
    area.rows = 3;
    area.value = text.textContent;
    area.setAttribute("aria-label", "Card text; Enter saves, Escape cancels");
    text.dataset.editing = "1";
    text.hidden = true;
    text.after(area);
    area.focus();
    const finish = () => {
      delete text.dataset.editing;
      area.remove();
      text.hidden = false;
    };
    area.addEventListener("blur", () => {
      if (text.dataset.editing && !area.dataset.saving) finish();
    });
    area.addEventListener("keydown", async (event) => {
      if (event.key === "Escape") {
        finish();
        text.focus();
      } else if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        const value = area.value.trim();
        if (!value) return;
        area.dataset.saving = "1";
        card.classList.add("saving");
        say("Saving…");
        try {
          const answer = await send({ op: "edit_card", card: id, text: value, evidence: JSON.parse(card.dataset.evidence || "[]") });
          const saved = findCard(answer.map, id);
          text.textContent = saved ? saved.text : value;
          const fallback = card.querySelector(".card-text-form textarea");
          if (fallback) fallback.value = text.textContent;
          say("Saved.");
        } catch (error) {
          say(`Not saved: ${error.message}`, true);
        }
        card.classList.remove("saving");
        finish();
        text.focus();
      }
    });
  }

  root.addEventListener("click", (event) => {
    const text = event.target.closest(".map-card .text.editable");
    if (text) startEditing(text);
  });
  root.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches(".map-card .text.editable")) {
      event.preventDefault();
      startEditing(event.target);
    }
  });

  // Drag a stage header onto another: the dragged stage takes that stage's place.
  let dragged = null;
  const clearMarks = () => {
    for (const head of root.querySelectorAll(".stage-head.dragging, .stage-head.drop-target")) head.classList.remove("dragging", "drop-target");
  };
  root.addEventListener("dragstart", (event) => {
    const head = event.target.closest && event.target.closest(".stage-head[draggable=true]");
    if (!head) return;
    dragged = head.dataset.stage;
    event.dataTransfer.setData("text/plain", dragged);
    event.dataTransfer.effectAllowed = "move";
    head.classList.add("dragging");
  });
  root.addEventListener("dragover", (event) => {
    const head = event.target.closest && event.target.closest(".stage-head");
    if (!head || dragged === null) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    for (const other of root.querySelectorAll(".stage-head.drop-target")) if (other !== head) other.classList.remove("drop-target");
    if (head.dataset.stage !== dragged) head.classList.add("drop-target");
  });
  root.addEventListener("dragend", () => {
    dragged = null;
    clearMarks();
  });
  root.addEventListener("drop", async (event) => {
    const head = event.target.closest && event.target.closest(".stage-head");
    if (!head || dragged === null) return;
    event.preventDefault();
    const stage = Number(dragged);
    dragged = null;
    clearMarks();
    if (Number(head.dataset.stage) === stage) return;
    say("Saving…");
    try {
      await send({ op: "move_stage", stage, position: Number(head.dataset.index) });
      await refresh([`.stage-head[data-stage="${stage}"] [data-move]`]);
      say("Saved.");
    } catch (error) {
      say(`Not saved: ${error.message}`, true);
    }
  });
})();
