// The analyst's page: sends the input to the service (analyze_many / analyze_files), shows what comes back,
// and asks the service for downloads (export). Everything computed lives in Python (vistance.inference.page).
"use strict";

const STANCES = ["favor", "against", "neutral"];
const NONE = "\u0000none";          // speaker filter value for claims without a speaker
const LONG_LINK = 32000;            // longer ?text= links go after "#", which browsers never send to the server
const S = { health: null, result: null, request: null, pasted: null, doc: -1 };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat(Infinity)) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

const f2 = (x) => (x === null || x === undefined || x === "" ? "—" : Number(x).toFixed(2));
const signed = (x) => (x === null || x === undefined || x === "" ? "—" : (x > 0 ? "+" : x < 0 ? "−" : "") + Math.abs(x).toFixed(2));
const label = (k) => (k === "not_claim" ? "not claim" : k);
const SHORT = { favor: "fav", against: "agst", neutral: "neut" };
// a stance label for a table header: written out, or abbreviated on narrow screens
const headLabel = (k) => el("span", { class: `lab st-${k}` }, el("span", { class: "full" }, k),
  el("abbr", { class: "short", title: k }, SHORT[k]));

// ------------------------------------------------------------------ talking to the service

async function api(path, body) {
  let r;
  try {
    r = await fetch(path, body === undefined ? {} : {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  } catch (e) {
    throw new Error(`Cannot reach the vistance service at ${location.origin}: is python -m vistance.serve still running?`);
  }
  if (r.ok) return r;
  let detail = "";
  try { detail = (await r.json()).detail; } catch (e) { /* not JSON */ }
  if (typeof detail !== "string") detail = JSON.stringify(detail);
  if (r.status === 413) throw new Error(`Too large for the service (413): ${detail}. Send fewer or shorter texts.`);
  if (r.status === 422) throw new Error(`The service cannot analyse this (422): ${detail}`);
  throw new Error(`The service answered ${r.status} ${r.statusText}${detail ? ": " + detail : ""}`);
}

function message(text) {
  const m = $("msg");
  m.textContent = text || "";
  m.hidden = !text;
}

async function loadHealth() {
  try {
    const h = await (await api("health")).json();
    S.health = h;
    const model = h.model.replace(/\/+$/, "").split("/").slice(-3).join("/");
    $("model").replaceChildren(
      el("span", {}, "model ", el("code", { title: h.model }, model), ` (${h.kind}, ${h.mode}`,
         h.stance_model ? " cascade" : "", ")"),
      el("span", {}, `task ${h.task}`),
      el("span", {}, "labels ", h.labels.join(" · ")),
      el("span", {}, h.speakers ? "speakers attributed" : "no speaker attribution"),
      el("span", {}, `vistance ${h.vistance_version}`));
  } catch (e) {
    $("model").textContent = e.message;
  }
}

async function readFile(file) {
  const bytes = await file.arrayBuffer();
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);   // drops a BOM, refuses other encodings
  } catch (e) {
    throw new Error(`${file.name} is not UTF-8 text; re-save it as UTF-8.`);
  }
}

async function analyse() {
  message("");
  const text = $("text").value;
  const files = Array.from($("files").files);
  if (!text.trim() && !files.length) {
    message("Nothing to analyse: paste an article or choose files.");
    $("text").focus();
    return;
  }
  const minClaims = Math.max(1, parseInt($("min-claims").value, 10) || 1);
  let request;
  try {
    if (files.length) {
      const contents = await Promise.all(files.map(readFile));
      const sent = files.map((f, i) => ({ name: f.name, content: contents[i] }));
      if (text.trim()) sent.push({ name: "pasted.txt", content: text });
      request = { path: "analyze_files",
                  body: { files: sent, rows: $("rows").value, text_field: $("field").value.trim() || "text",
                          min_claims: minClaims } };
    } else {
      request = { path: "analyze_many", body: { articles: [{ id: "article", text }], min_claims: minClaims } };
    }
  } catch (e) {
    message(e.message);
    return;
  }
  const what = files.length ? `${files.length + (text.trim() ? 1 : 0)} input(s)` : "the article";
  if (await run(request, `Analysing ${what}…`)) {
    S.pasted = files.length ? null : text;
    shareLink();
    $("results").focus();
  }
}

async function run(request, status) {
  const button = $("analyse");
  button.disabled = true;
  $("status").textContent = status;
  try {
    const result = await (await api(request.path, request.body)).json();
    S.request = request;
    show(result);
    $("status").textContent = statusLine(result);
    return true;
  } catch (e) {
    $("status").textContent = "";
    message(e.message);
    return false;
  } finally {
    button.disabled = false;
  }
}

function statusLine(r) {
  const n = r.documents.reduce((a, d) => a + d.sentences.length, 0);
  const skipped = r.skipped ? `, ${r.skipped} empty skipped` : "";
  return `${r.documents.length} document(s), ${n} sentence(s)${skipped}.`;
}

function shareLink() {
  const box = $("share-box");
  box.hidden = S.pasted === null;
  if (S.pasted === null) return;
  const q = encodeURIComponent(S.pasted);
  const base = location.pathname;
  $("share").href = q.length <= LONG_LINK ? `${base}?text=${q}` : `${base}#text=${q}`;
}

async function download(format) {
  message("");
  if (!S.result) return;
  const documents = S.result.documents.map((d) => ({ id: d.id, date: d.date, input: d.input, sentences: d.sentences }));
  try {
    const blob = await (await api(`export?format=${format}`, { documents })).blob();
    const a = el("a", { href: URL.createObjectURL(blob), download: `vistance-results.${format}` });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  } catch (e) {
    message(e.message);
  }
}

// ------------------------------------------------------------------ results

function show(result) {
  S.result = result;
  $("results").hidden = false;
  const many = result.documents.length > 1;
  $("overview").hidden = !many;
  $("back").hidden = !many;
  if (many) {
    articlesTable(result.documents);
    actorsTable(result);
    $("doc").hidden = true;
    S.doc = -1;
  } else {
    openDoc(0, false);
  }
}

function counts(c) {
  return [...STANCES, "not_claim"].map((k) => el("td", { class: `num c-${k}`, "data-label": label(k) }, String(c[k] || 0)));
}

function articlesTable(docs) {
  const head = el("tr", {}, el("th", { scope: "col" }, "Date"), el("th", { scope: "col" }, "Title"),
    el("th", { scope: "col", class: "num" }, "Sentences"),
    ...[...STANCES, "not_claim"].map((k) => el("th", { scope: "col", class: "num" }, el("span", { class: `lab st-${k}` }, label(k)))));
  const rows = docs.map((d, i) => el("tr", {},
    el("td", { class: "nowrap date" }, d.date || "undated"),
    el("td", { class: "title" }, el("button", { type: "button", class: "link", onclick: () => openDoc(i, true) }, d.title || d.id),
       el("div", { class: "sub" }, sourceLine(d))),
    el("td", { class: "num", "data-label": "sentences" }, String(d.sentences.length)), ...counts(d.counts)));
  $("articles").replaceChildren(el("thead", {}, head), el("tbody", {}, rows),
    el("tfoot", {}, el("tr", {}, el("td", { class: "date" }, ""), el("th", { scope: "row" }, "All"),
      el("td", { class: "num", "data-label": "sentences" }, String(docs.reduce((a, d) => a + d.sentences.length, 0))), ...counts(S.result.counts))));
}

function sourceLine(d) {
  // a file's name says enough when the id is its stem (the predict CLI's id rule)
  if (!d.source) return d.id;
  return d.source.replace(/\.[^.]*$/, "") === d.id ? d.source : `${d.id} · ${d.source}`;
}

function actorsTable(result) {
  const note = $("actors-note");
  if (!result.actors) {
    note.textContent = "This model does not attribute speakers, so there is no actor summary.";
    $("actors").replaceChildren();
    return;
  }
  note.replaceChildren("Claims per speaker and their stance; net index = (favor − against) / claims with a stance, " +
    "with its 95% interval. The same figures as ", el("code", {}, `python -m vistance.actors --min-claims ${result.min_claims}`),
    " on the downloaded results.");
  const head = el("tr", {}, el("th", { scope: "col" }, "Actor"),
    el("th", { scope: "col", class: "num" }, el("span", { class: "full" }, "Claims"), el("abbr", { class: "short", title: "claims" }, "n")),
    ...STANCES.map((k) => el("th", { scope: "col", class: "num" }, headLabel(k))),
    el("th", { scope: "col", class: "num" }, "Net index [95%]"));
  const rows = result.actors.map((a) => el("tr", {},
    el("th", { scope: "row" }, a.actor, a.actor === "other" ? el("span", { class: "sub" }, ` (${a.speakers} speakers)`) : ""),
    el("td", { class: "num" }, String(a.claims)),
    ...STANCES.map((k) => el("td", { class: "num" }, String(a[k]))),
    el("td", { class: "num nowrap" }, signed(a.net_index),
       a.net_low === "" ? "" : el("span", { class: "sub" }, ` [${signed(a.net_low)}, ${signed(a.net_high)}]`))));
  $("actors").replaceChildren(el("thead", {}, head), el("tbody", {}, rows));
}

function openDoc(i, focus) {
  const d = S.result.documents[i];
  S.doc = i;
  $("overview").hidden = true;
  $("doc").hidden = false;
  $("doc-title").textContent = d.title || d.id;
  $("doc-meta").textContent = [d.date ? `dated ${d.date}` : "undated", d.source, `${d.sentences.length} sentences`,
    d.input === "sentences" ? "a table of sentences, one per line" : null].filter(Boolean).join(" · ");
  summary(d);
  speakerOptions(d);
  for (const c of document.querySelectorAll('input[name="stance"]')) c.checked = true;
  $("conf").value = 0;
  body(d);
  filter();
  if (focus) $("doc-title").focus();
}

function back() {
  hideTip();
  $("doc").hidden = true;
  $("overview").hidden = false;
  const b = document.querySelectorAll("#articles button.link")[S.doc];
  S.doc = -1;
  if (b) b.focus();
}

function summary(d) {
  const total = d.sentences.length || 1;
  const keys = [...STANCES, "not_claim"];
  const bar = el("div", { class: "bar", "aria-hidden": "true" },
    keys.map((k) => el("span", { class: `bg-${k}`, style: `width:${(100 * (d.counts[k] || 0)) / total}%` })));
  const chips = el("ul", { class: "counts", "aria-label": "Sentences by stance" },
    keys.map((k) => el("li", {}, el("span", { class: `lab st-${k}` }, label(k)), " ", el("b", {}, String(d.counts[k] || 0)))));
  const parts = [el("div", { class: "row" }, chips, bar)];
  if (d.speakers) {
    const list = d.speakers.map((a) => el("li", {}, el("button", {
      type: "button", class: "who", title: "show only this speaker's claims",
      onclick: () => { $("speaker").value = a.actor === "(unattributed)" ? NONE : a.actor; filter(); } },
      el("span", { class: "name" }, a.actor), " ",
      STANCES.filter((k) => a[k]).map((k) => el("span", { class: `n st-${k}` }, `${a[k]} ${k}`)))));
    parts.push(el("div", { class: "speakers" }, el("h3", {}, "Speakers"),
      list.length ? el("ul", {}, list) : el("p", { class: "hint" }, "no claims")));
  }
  $("summary").replaceChildren(...parts);
}

function speakerOptions(d) {
  const sel = $("speaker");
  const opts = [el("option", { value: "" }, "all speakers")];
  for (const a of d.speakers || []) {
    opts.push(el("option", { value: a.actor === "(unattributed)" ? NONE : a.actor }, `${a.actor} (${a.claims})`));
  }
  sel.replaceChildren(...opts);
  sel.disabled = !d.speakers;
}

function body(d) {
  const paras = [];
  let cur = null;
  d.sentences.forEach((s, i) => {
    if (!cur || cur.n !== s.paragraph) paras.push(cur = { n: s.paragraph, kind: s.kind, items: [] });
    cur.items.push([s, i]);
  });
  $("body").replaceChildren(...paras.map((p) => {
    const tag = p.kind === "heading" ? "h3" : "p";
    const kids = [];
    if (p.kind !== "body") kids.push(el("span", { class: "kind" }, p.kind), " ");
    p.items.forEach(([s, i], j) => { if (j) kids.push(" "); kids.push(sentence(s, i)); });
    return el(tag, { class: `para ${p.kind}` }, kids);
  }));
}

function sentence(s, i) {
  const claim = s.claim === "claim";
  const attrs = { class: claim ? `s claim st-${s.stance || "claim"}` : "s nc", tabindex: "0", "data-i": String(i),
    "data-id": s.id };
  if (!claim) return el("span", attrs, el("span", { class: "t" }, s.text));
  // The speaker chip and the stance label stay on one line with the claim's first word.
  const lead = [];
  if (S.result.speakers) lead.push(el("span", { class: s.speaker ? "chip" : "chip none" }, s.speaker || "no speaker"), " ");
  lead.push(el("span", { class: `lab st-${s.stance || "claim"}` }, s.stance || "claim"), " ");
  const cut = s.text.search(/\s/);
  const first = cut < 0 ? s.text : s.text.slice(0, cut);
  lead.push(el("span", { class: "t" }, first));
  return el("span", attrs, el("span", { class: "lead" }, lead), cut < 0 ? "" : el("span", { class: "t" }, s.text.slice(cut)));
}

function filter() {
  const d = S.result && S.result.documents[S.doc];
  if (!d) return;
  const stances = new Set(Array.from(document.querySelectorAll('input[name="stance"]:checked'), (c) => c.value));
  const who = $("speaker").value;
  const min = Number($("conf").value);
  $("conf-out").textContent = min.toFixed(2);
  let shown = 0, claims = 0;
  for (const span of $("body").querySelectorAll(".s.claim")) {
    const s = d.sentences[Number(span.dataset.i)];
    const ok = (!s.stance || stances.has(s.stance)) && (s.confidence ?? 1) >= min &&
      (!who || (who === NONE ? !s.speaker : s.speaker === who));
    span.classList.toggle("off", !ok);
    claims += 1;
    shown += ok;
  }
  $("shown").textContent = `${shown} of ${claims} claims highlighted`;
}

// ------------------------------------------------------------------ probabilities on hover and focus

function showTip(span, x, y) {
  const d = S.result.documents[S.doc];
  const s = d && d.sentences[Number(span.dataset.i)];
  if (!s) return;
  const tip = $("tip");
  const lines = [el("div", {}, el("b", {}, s.claim === "claim" ? `claim${s.stance ? ", " + s.stance : ""}` : "not a claim"),
    ` · ${s.id} · ${s.kind}`), el("div", {}, `p(claim) ${f2(s.claim_score)}`)];
  if (s.stance_scores) {
    lines.push(el("div", {}, STANCES.map((k, j) => [j ? " · " : "", `${k} ${f2(s.stance_scores[k])}`])));
  }
  if (s.confidence !== null && s.confidence !== undefined) lines.push(el("div", {}, `confidence ${f2(s.confidence)}`));
  if (s.speaker) lines.push(el("div", {}, `speaker ${s.speaker}`));
  tip.replaceChildren(...lines);
  tip.hidden = false;
  // under the pointer, or (keyboard focus) under the sentence's last line, so that it hides none of it
  const rects = span.getClientRects();
  const r = rects.length ? rects[0] : span.getBoundingClientRect();
  const left = x === undefined ? r.left : x;
  const top = y === undefined ? (rects.length ? rects[rects.length - 1] : r).bottom : y + 14;
  const w = tip.offsetWidth;
  tip.style.left = `${Math.max(4, Math.min(left, document.documentElement.clientWidth - w - 4)) + scrollX}px`;
  tip.style.top = `${top + scrollY + 6}px`;
  span.setAttribute("aria-describedby", "tip");
}

function hideTip() {
  $("tip").hidden = true;
  for (const s of document.querySelectorAll('[aria-describedby="tip"]')) s.removeAttribute("aria-describedby");
}

// ------------------------------------------------------------------ wiring

function clearAll() {
  $("text").value = "";
  $("files").value = "";
  $("results").hidden = true;
  $("status").textContent = "";
  message("");
  hideTip();
  S.result = null;
  S.pasted = null;
  history.replaceState(null, "", location.pathname);
  $("text").focus();
}

function fromLink() {
  const q = new URLSearchParams(location.search).get("text");
  if (q !== null) return q;
  if (location.hash.startsWith("#text=")) {
    try { return decodeURIComponent(location.hash.slice(6)); } catch (e) { return null; }
  }
  return null;
}

document.addEventListener("DOMContentLoaded", () => {
  $("form").addEventListener("submit", (e) => { e.preventDefault(); analyse(); });
  $("clear").addEventListener("click", clearAll);
  $("back").addEventListener("click", back);
  $("dl-csv").addEventListener("click", () => download("csv"));
  $("dl-jsonl").addEventListener("click", () => download("jsonl"));
  $("speaker").addEventListener("change", filter);
  $("conf").addEventListener("input", filter);
  for (const c of document.querySelectorAll('input[name="stance"]')) c.addEventListener("change", filter);
  $("min-claims").addEventListener("change", () => {
    if (!S.request) return;
    const n = Math.max(1, parseInt($("min-claims").value, 10) || 1);
    run({ path: S.request.path, body: { ...S.request.body, min_claims: n } }, "Recomputing the actor summary…");
  });
  const bodyEl = $("body");
  bodyEl.addEventListener("mouseover", (e) => { const s = e.target.closest(".s"); if (s) showTip(s, e.clientX, e.clientY); });
  bodyEl.addEventListener("mouseleave", hideTip);
  bodyEl.addEventListener("focusin", (e) => { const s = e.target.closest(".s"); if (s) showTip(s); });
  bodyEl.addEventListener("focusout", hideTip);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") hideTip(); });
  loadHealth();
  const text = fromLink();
  if (text !== null && text.trim()) {
    $("text").value = text;
    analyse();
  }
});
