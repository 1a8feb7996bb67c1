// The touchpoint form's live preview: as the rule is typed, asks the preview API
// (GET /api/businesses/{id}/touchpoints/preview?rule=...) what it matches over the last 30 days
// that have data and shows the answer beside the form; a rule that does not read shows its place
// and reason under the field. Without JavaScript the form's Preview button does the same through a
// page load, and the page renders the same markup.
"use strict";
(() => {
  const form = document.querySelector("form[data-preview-url]");
  if (!form) return;
  const rule = form.querySelector("input[name=rule]");
  const box = document.getElementById("rule-preview");
  const error = document.getElementById("rule-error");
  const business = form.dataset.business;
  let timer = null;
  let asked = 0;

  // An element with attributes and children (text children are set as text, never as HTML).
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    for (const child of children) node.append(child);
    return node;
  };

  const showError = (message, text, offset) => {
    error.replaceChildren(message);
    if (typeof offset === "number") {
      const chars = Array.from(text);
      const at = chars[offset] === undefined ? "\u2423" : chars[offset];
      error.append(el("br"), el("code", { class: "rule-at" }, chars.slice(0, offset).join(""), el("mark", {}, at), chars.slice(offset + 1).join("")));
    }
  };

  const render = (children) => box.replaceChildren(el("h2", {}, "Preview"), ...children);

  const answer = (p) => {
    const parts = [el("p", Object.assign({ "data-testid": "preview-summary" }, p.matches_nothing ? { class: "nothing" } : {}), p.summary)];
    if (p.rule_in_words) parts.push(el("p", { class: "muted" }, "The rule reads: " + p.rule_in_words));
    if (p.events > 0) {
      const ids = p.customers.slice(0, 1000).join(",");
      const customers = ids
        ? el("a", { href: `/b/${business}/customers?ids=${ids}`, "data-testid": "preview-customers" }, String(p.n))
        : el("span", { "data-testid": "preview-customers" }, String(p.n));
      parts.push(el("p", {}, el("span", { "data-testid": "preview-events" }, String(p.events)), " events, ", customers, " customers (n)"));
    }
    for (const note of p.notes) parts.push(el("p", { class: "muted", "data-testid": "preview-note" }, note));
    if (p.examples.length > 0) {
      const rows = p.examples.map((e) =>
        el("tr", {},
          el("td", {}, el("time", { datetime: e.time }, e.time.slice(0, 16).replace("T", " ") + " UTC")),
          el("td", {}, el("a", { href: `/b/${business}/customers/${e.customer}` }, String(e.customer))),
          el("td", {}, e.event),
          el("td", {}, Object.entries(e.fields).map(([k, v]) => `${k}=${v}`).join(", "))));
      const head = el("thead", {}, el("tr", {}, ...["When", "Customer", "Event", "Fields"].map((h) => el("th", {}, h))));
      parts.push(el("table", { class: "examples", "data-testid": "preview-examples" }, head, el("tbody", {}, ...rows)));
    }
    return parts;
  };

  const update = async () => {
    const text = rule.value;
    const mine = ++asked;
    if (!text.trim()) {
      error.replaceChildren();
      render([el("p", { class: "muted", "data-testid": "preview-summary" }, "Type a rule to see what it matches over the last 30 days that have data.")]);
      return;
    }
    box.classList.add("loading");
    try {
      const response = await fetch(`${form.dataset.previewUrl}?rule=${encodeURIComponent(text)}`, { headers: { accept: "application/json" }, credentials: "same-origin" });
      const body = await response.json();
      // A newer request is on its way: its answer is the one to show.
      if (mine !== asked) return;
      if (response.ok) {
        error.replaceChildren();
        render(answer(body));
      } else if (body.error && body.error.code === "invalid_rule") {
        const offset = body.error.offset;
        showError(`At offset ${offset}: ${body.error.message.replace(/^.*: at offset \d+: /, "")}`, text, offset);
        render([el("p", { class: "muted", "data-testid": "preview-summary" }, "The rule does not read yet; see the note under it.")]);
      } else {
        render([el("p", { class: "error", "data-testid": "preview-summary" }, body.error ? body.error.message : `The preview failed (${response.status}).`)]);
      }
    } catch (failure) {
      if (mine === asked) render([el("p", { class: "error", "data-testid": "preview-summary" }, `The preview could not be fetched: ${failure.message}`)]);
    } finally {
      if (mine === asked) box.classList.remove("loading");
    }
  };

  rule.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  });
})();
