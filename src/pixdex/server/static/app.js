// pixdex web page: search by image (drop, paste or pick) and browse duplicate groups.
// Plain JavaScript against the JSON API of the same server; no build step, no dependencies.
"use strict";

const $ = (id) => document.getElementById(id);
const MAX_RESULTS = 200;

let queryFile = null;   // the last image searched for, re-sent when the distance changes
let searchSerial = 0;   // answers to superseded searches are ignored

function humanBytes(count) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let size = count, step = 0;
  while (size >= 1024 && step < units.length - 1) { size /= 1024; step += 1; }
  return step === 0 ? `${count} B` : `${size.toFixed(1)} ${units[step]}`;
}

function setStatus(element, text, kind) {
  element.textContent = text;
  element.className = `status ${kind || ""}`;
  element.dataset.state = kind || "";
}

async function fetchJson(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    return { ok: false, status: 0, body: { error: `the server cannot be reached (${error})`, kind: "network" } };
  }
  let body;
  try {
    body = await response.json();
  } catch (error) {
    body = { error: `unexpected answer (HTTP ${response.status})`, kind: "http" };
  }
  return { ok: response.ok, status: response.status, body };
}

// A result card: thumbnail (click opens the file), distance, path, pixel size and bytes.
function card(file, label, extraClass) {
  const figure = document.createElement("figure");
  figure.className = `card ${extraClass || ""}`;
  figure.dataset.testid = "match";
  figure.dataset.path = file.path;
  const link = document.createElement("a");
  link.href = `/api/images/${file.id}/file`;
  link.target = "_blank";
  link.rel = "noopener";
  const image = document.createElement("img");
  image.src = `/api/images/${file.id}/thumbnail`;
  image.alt = file.path;
  image.loading = "lazy";
  link.append(image);
  const caption = document.createElement("figcaption");
  const badge = document.createElement("div");
  badge.className = "distance-badge";
  badge.textContent = label;
  const path = document.createElement("div");
  path.className = "path";
  path.textContent = file.path;
  const size = document.createElement("div");
  const pixels = file.width && file.height ? `${file.width} × ${file.height} px · ` : "";
  size.textContent = `${pixels}${humanBytes(file.size || 0)}`;
  caption.append(badge, path, size);
  figure.append(link, caption);
  return figure;
}

function describeError(body) {
  if (body.kind === "not-an-image") return [`Not an image: ${body.error}`, "not-an-image"];
  if (body.kind === "too-large") return [`Too large: ${body.error}`, "error"];
  return [`Error: ${body.error || "unknown"}`, "error"];
}

// ---- search view ----------------------------------------------------------------------------

async function search() {
  if (!queryFile) return;
  const serial = ++searchSerial;
  const distance = $("distance").value;
  const status = $("status");
  setStatus(status, "Searching…", "busy");
  const form = new FormData();
  form.append("image", queryFile, queryFile.name || "pasted image");
  const answer = await fetchJson(`/api/search?distance=${distance}&k=${MAX_RESULTS}`, {
    method: "POST", body: form,
  });
  if (serial !== searchSerial) return;
  const results = $("results");
  results.replaceChildren();
  if (!answer.ok) {
    $("query-hash").textContent = "";
    const [text, kind] = describeError(answer.body);
    setStatus(status, text, kind);
    return;
  }
  const body = answer.body;
  $("query-hash").textContent = `${body.algorithm} ${body.hash}`;
  if (body.matches.length === 0) {
    setStatus(status, `No match within ${body.distance} bits.`, "no-match");
    return;
  }
  const plural = body.matches.length === 1 ? "match" : "matches";
  setStatus(status,
    `${body.matches.length} ${plural} within ${body.distance} bits (search ${body.took_ms.toFixed(1)} ms).`,
    "matches");
  for (const match of body.matches) {
    results.append(card(match, `distance ${match.distance}`));
  }
}

function useFile(file) {
  if (!file) return;
  queryFile = file;
  $("query").hidden = false;
  const preview = $("query-preview");
  if (preview.src.startsWith("blob:")) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(file);
  $("query-name").textContent = file.name || "pasted image";
  search();
}

function debounce(action, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(action, ms); };
}

function setUpSearch() {
  const drop = $("drop");
  $("file").addEventListener("change", (event) => useFile(event.target.files[0]));
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    useFile(event.dataTransfer.files[0]);
  });
  document.addEventListener("paste", (event) => {
    const item = [...event.clipboardData.items].find((i) => i.kind === "file");
    if (item) useFile(item.getAsFile());
  });
  const distance = $("distance");
  const requery = debounce(search, 150);
  distance.addEventListener("input", () => { $("distance-value").textContent = distance.value; requery(); });
}

// ---- duplicates view ------------------------------------------------------------------------

async function showDuplicates() {
  const distance = $("dup-distance").value;
  const status = $("dup-status");
  const groups = $("groups");
  setStatus(status, "Finding duplicate groups…", "busy");
  const answer = await fetchJson(`/api/duplicates?distance=${distance}`);
  groups.replaceChildren();
  if (!answer.ok) {
    const [text, kind] = describeError(answer.body);
    setStatus(status, text, kind);
    return;
  }
  const body = answer.body;
  if (body.total_groups === 0) {
    setStatus(status, `No duplicate groups within ${body.distance} bits.`, "no-match");
    return;
  }
  const shown = body.groups.length < body.total_groups ? ` (first ${body.groups.length} shown)` : "";
  const groupsWord = body.total_groups === 1 ? "group" : "groups";
  setStatus(status, `${body.total_groups} ${groupsWord} within ${body.distance} bits${shown}.`, "matches");
  body.groups.forEach((group, index) => {
    const section = document.createElement("section");
    section.className = "group";
    section.dataset.testid = "group";
    const title = document.createElement("h2");
    title.textContent = `Group ${index + 1}: ${group.members.length} images`;
    const grid = document.createElement("div");
    grid.className = "grid";
    for (const member of group.members) {
      const keeper = member.path === group.keeper || member.path === group.keeper?.path;
      const label = keeper ? "keeper" : `distance ${member.distance}${member.exact ? " (exact copy)" : ""}`;
      grid.append(card(member, label, keeper ? "keeper" : ""));
    }
    section.append(title, grid);
    groups.append(section);
  });
}

function setUpDuplicates() {
  const distance = $("dup-distance");
  const refresh = debounce(showDuplicates, 250);
  distance.addEventListener("input", () => { $("dup-distance-value").textContent = distance.value; refresh(); });
}

// ---- page -----------------------------------------------------------------------------------

function showView(name) {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.classList.toggle("active", tab.dataset.view === name);
  }
  $("view-search").hidden = name !== "search";
  $("view-duplicates").hidden = name !== "duplicates";
  if (name === "duplicates") showDuplicates();
}

async function loadStats() {
  const answer = await fetchJson("/api/stats");
  if (!answer.ok) {
    $("stats").textContent = `catalog unavailable: ${answer.body.error}`;
    return;
  }
  const stats = answer.body;
  const hashes = stats.algorithms.map((a) => `${a.name} ${a.bits} bits`).join(", ");
  $("stats").textContent = `${stats.images} images · ${hashes || "no hashes"}`;
  const main = stats.algorithms.find((a) => a.name === "dhash") || stats.algorithms[0];
  if (main) {
    for (const [slider, output] of [["distance", "distance-value"], ["dup-distance", "dup-distance-value"]]) {
      $(slider).max = main.bits;
      $(slider).value = main.default_distance;
      $(output).textContent = main.default_distance;
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => showView(tab.dataset.view));
  }
  setUpSearch();
  setUpDuplicates();
  loadStats();
});
