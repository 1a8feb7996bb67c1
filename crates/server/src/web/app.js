// Trailmap's only script: small conveniences. Every page works without it.
"use strict";
document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy && navigator.clipboard) {
    navigator.clipboard.writeText(copy.dataset.copy).then(() => {
      copy.textContent = "Copied";
    });
  }
  // Menus close when the click lands elsewhere.
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  }
});
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// The persona form: the rule's rows write its text form, and the live count follows the rule
// through the API's preview (the same count the form's "Count customers" button asks for).
const personaForm = document.querySelector("form[data-preview]");
if (personaForm) {
  const text = personaForm.querySelector("input[name=rule]");
  const count = personaForm.querySelector("[data-testid=live-count]");
  const rows = [...personaForm.querySelectorAll("[data-testid=rule-row]")];
  const radio = (value) => personaForm.querySelector(`input[name=rule_from][value=${value}]`);
  // As the rule's text writes values and keys (see the model's persona_rule).
  const quoted = (v) => `"${v.replace(/[\\"]/g, (c) => "\\" + c)}"`;
  const value = (v) => (/^[^\s&|"!=<>()]+$/.test(v) ? v : quoted(v));
  const key = (k) => (/^[\p{L}\p{N}_.-]+$/u.test(k) ? k : quoted(k));
  const rowText = (row) => {
    const get = (name) => row.querySelector(`[name^=${name}_]`).value.trim();
    const [field, op, v] = [get("field"), get("op"), get("value")];
    if (!field || !op) return null;
    let name = field;
    if (field === "property") {
      if (!get("key")) return null;
      name = `property:${key(get("key"))}`;
    }
    if (op.endsWith("exists")) return `${name} ${op}`;
    if (!v) return null;
    if (op === "=" || op === "!=") return name + op + v.split("|").map((x) => value(x.trim())).join("|");
    if (op.includes("contains") || op.includes("starts_with")) return `${name} ${op} ${value(v)}`;
    return name + op + value(v);
  };
  const fromRows = () => {
    text.value = rows.map(rowText).filter(Boolean).join(" & ");
  };
  // Only a property needs a key; in text mode the rows stand aside.
  const tidy = () => {
    for (const row of rows) {
      const property = row.querySelector("[name^=field_]").value === "property";
      row.querySelector("[name^=key_]").classList.toggle("unused", !property);
    }
    personaForm.querySelector(".rule-rows").classList.toggle("inactive", radio("text").checked);
  };
  const link = (n, ids, testid) => {
    const span = document.createElement("span");
    span.dataset.testid = testid;
    span.textContent = n;
    const words = document.createElement(n > 0 ? "a" : "span");
    if (n > 0) words.href = `${personaForm.dataset.customers}${ids.slice(0, 1000).join(",")}`;
    words.append(span, n === 1 ? " customer" : " customers");
    const strong = document.createElement("strong");
    strong.append(words);
    return strong;
  };
  const show = (preview) => {
    count.replaceChildren("Matches ", link(preview.matches.n, preview.matches.customers, "live-matches"),
      ` of ${preview.customers}; would cover `, link(preview.covers.n, preview.covers.customers, "live-covers"), ".");
    for (const o of preview.counted_earlier) count.append(` ${o.n} count for ${o.name}, which comes first.`);
    const words = document.createElement("span");
    words.className = "muted";
    words.dataset.testid = "live-rule";
    words.textContent = preview.rule_in_words;
    count.append(document.createElement("br"), words);
  };
  const fail = (message) => {
    const span = document.createElement("span");
    span.className = "error";
    span.dataset.testid = "rule-error";
    span.textContent = message;
    count.replaceChildren(span);
  };
  let asked = 0;
  let timer = null;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const rule = text.value.trim();
      const mine = ++asked;
      if (!rule) {
        count.replaceChildren("Add a condition to count its customers.");
        return;
      }
      const url = new URL(personaForm.dataset.preview, location.href);
      url.searchParams.set("rule", rule);
      if (personaForm.dataset.persona) url.searchParams.set("persona", personaForm.dataset.persona);
      try {
        const reply = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } });
        const body = await reply.json();
        if (mine !== asked) return;
        if (reply.ok) show(body);
        else fail(body.error ? body.error.message : `The count failed (${reply.status}).`);
      } catch (error) {
        if (mine === asked) fail(`The count failed: ${error.message}`);
      }
    }, 250);
  };
  for (const row of rows) {
    const changed = () => {
      radio("rows").checked = true;
      fromRows();
      tidy();
      refresh();
    };
    row.addEventListener("input", changed);
    row.addEventListener("change", changed);
  }
  text.addEventListener("input", () => {
    radio("text").checked = true;
    tidy();
    refresh();
  });
  radio("rows").addEventListener("change", () => {
    fromRows();
    tidy();
    refresh();
  });
  radio("text").addEventListener("change", () => {
    tidy();
    refresh();
  });
  tidy();
  if (text.value.trim()) refresh();
}

// The journey map's zoom: a map wider than the window is shrunk to fit it when the page opens,
// unless that takes it below 60 % (as on a phone: the box then scrolls sideways, with the arrow
// keys once focused); the buttons fit it again (down to half size), step by 10 % or go back to
// 100 %. The zoom is one CSS variable on the document, so a grid the editor fetches again keeps it.
const mapScroll = document.querySelector(".map-scroll");
if (mapScroll && mapScroll.querySelector(".map-grid")) {
  const MIN = 0.5;
  const MAX = 1.5;
  let zoom = 1;
  const controls = document.createElement("div");
  controls.className = "map-zoom";
  controls.setAttribute("role", "group");
  controls.setAttribute("aria-label", "Map zoom");
  const shown = document.createElement("span");
  shown.setAttribute("aria-live", "polite");
  shown.dataset.testid = "map-zoom-level";
  const set = (value) => {
    zoom = Math.min(MAX, Math.max(MIN, Math.round(value * 100) / 100));
    document.documentElement.style.setProperty("--map-zoom", String(zoom));
    shown.textContent = `${Math.round(zoom * 100)} %`;
  };
  // The zoom at which the grid's natural width (its width at zoom 1, its stages at their
  // narrowest when they do not fit) fills the box.
  const fitting = () => {
    const grid = document.querySelector(".map-scroll .map-grid");
    if (!grid) return zoom;
    set(1);
    const natural = grid.getBoundingClientRect().width;
    const room = document.querySelector(".map-scroll").clientWidth;
    return natural > room ? room / natural : 1;
  };
  const fit = () => set(fitting());
  const button = (label, title, action, testid) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = label;
    b.title = title;
    b.dataset.testid = testid;
    b.addEventListener("click", action);
    controls.append(b);
  };
  controls.append("Zoom ");
  button("Fit", "Fit the map to the window", fit, "map-zoom-fit");
  button("Smaller", "Zoom out by 10 %", () => set(zoom - 0.1), "map-zoom-out");
  button("Larger", "Zoom in by 10 %", () => set(zoom + 0.1), "map-zoom-in");
  button("100 %", "Actual size", () => set(1), "map-zoom-reset");
  controls.append(shown);
  (mapScroll.closest("[data-map-root]") ?? mapScroll).before(controls);
  // On opening, shrink only while cards stay readable: a phone scrolls the map at full size.
  const opening = fitting();
  set(opening >= 0.6 ? opening : 1);
}
