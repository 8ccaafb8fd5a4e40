// Latent index: sortable, searchable, paged table over window.MSTS_INDEX (no network, no libraries).
(function () {
  "use strict";
  var M = window.MSTS_META, rows = window.MSTS_INDEX.latents; // [id, density, max, mean, token at max, top promoted tokens]
  var PER = 100, sortCol = 1, asc = false, page = 0, shown = rows.slice();
  var app = document.getElementById("app");
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function fmt(v) { if (v === 0) return "0"; var a = Math.abs(v); return a >= 1000 || a < 0.001 ? v.toExponential(2) : v.toPrecision(3); }
  function pad(i) { var s = String(i); while (s.length < 5) s = "0" + s; return s; }

  var head = el("header", "top");
  head.appendChild(el("h1", null, M.title));
  head.appendChild(el("span", "sub", M.architecture + " SAE · d_in " + M.d_in + " · d_sae " + M.d_sae + " · " + M.hook_name + " · " + M.model_name));
  app.appendChild(head);
  var main = el("main"); app.appendChild(main);

  var dead = 0, dense = 0;
  rows.forEach(function (r) { if (r[1] === 0) dead++; if (r[1] > 0.1) dense++; });
  var cards = el("div", "cards");
  [["latents", M.d_sae], ["tokens scanned", M.counted_tokens.toLocaleString("en")], ["sequences", M.sequences + " × " + M.context_size],
   ["dead", dead + " (" + (100 * dead / rows.length).toFixed(1) + "%)"], ["dense >10%", dense]].forEach(function (c) {
    var d = el("div", "card"); d.appendChild(el("div", "k", c[0])); d.appendChild(el("div", "v", String(c[1]))); cards.appendChild(d);
  });
  main.appendChild(cards);
  var notes = el("div", "notes");
  notes.textContent = "Activations: " + M.source + (M.has_logits ? " · output tokens from " + M.logits_model : "") + ". " + M.notes.join(" ");
  main.appendChild(notes);

  // density histogram over latents (log10 density), dead latents as a separate bar
  var panel = el("div", "panel"); panel.appendChild(el("h2", null, "Latent density (log10 fraction of tokens active)"));
  var bins = [], lo = -7, hi = 0, nb = 56, maxc = 1;
  for (var i = 0; i < nb; i++) bins.push(0);
  rows.forEach(function (r) { if (r[1] > 0) { var b = Math.floor((Math.log10(r[1]) - lo) / (hi - lo) * nb); bins[Math.max(0, Math.min(nb - 1, b))]++; } });
  bins.forEach(function (c) { maxc = Math.max(maxc, c); }); maxc = Math.max(maxc, dead);
  var W = 780, H = 120, bw = (W - 90) / nb, svg = '<svg id="density" width="' + W + '" height="' + (H + 22) + '">';
  svg += '<rect x="4" y="' + (H - H * dead / maxc) + '" width="' + (bw * 1.5) + '" height="' + (H * dead / maxc) + '" fill="#adb5bd"><title>dead: ' + dead + '</title></rect>';
  svg += '<text x="2" y="' + (H + 14) + '">dead</text>';
  for (i = 0; i < nb; i++) {
    var h = H * bins[i] / maxc, x = 60 + i * bw;
    svg += '<rect x="' + x + '" y="' + (H - h) + '" width="' + (bw - 1) + '" height="' + h + '" fill="#4c6ef5"><title>' + bins[i] + ' latents</title></rect>';
  }
  for (var t = lo; t <= hi; t++) svg += '<text x="' + (60 + (t - lo) / (hi - lo) * nb * bw - 6) + '" y="' + (H + 14) + '">1e' + t + '</text>';
  panel.insertAdjacentHTML("beforeend", svg + "</svg>");
  main.appendChild(panel);

  var ctl = el("div", "controls");
  var q = el("input"); q.type = "search"; q.id = "search"; q.placeholder = "search: latent id or token text (e.g. 42, the, >0.01)";
  var count = el("span", "count"), prev = el("button", null, "‹ prev"), next = el("button", null, "next ›"), pg = el("span", "count");
  ctl.appendChild(q); ctl.appendChild(count); ctl.appendChild(prev); ctl.appendChild(pg); ctl.appendChild(next);
  main.appendChild(ctl);
  var table = el("table", "latents"); table.id = "latents";
  var thead = el("thead"), tr = el("tr");
  var cols = [["latent", 0], ["density", 1], ["max act", 2], ["mean act", 3]];
  if (M.has_tokens) cols.push(["token at max", 4]);
  if (M.has_logits) cols.push(["top promoted tokens", 5]);
  var ths = cols.map(function (c) {
    var th = el("th", c[1] >= 4 ? "label" : null, c[0]);
    th.addEventListener("click", function () { if (sortCol === c[1]) asc = !asc; else { sortCol = c[1]; asc = c[1] === 0 || c[1] >= 4; } page = 0; apply(); });
    tr.appendChild(th); return th;
  });
  thead.appendChild(tr); table.appendChild(thead);
  var tbody = el("tbody"); table.appendChild(tbody); main.appendChild(table);
  var maxLog = 0;

  function filter() {
    var s = q.value.trim().toLowerCase();
    if (!s) return rows.slice();
    var m = /^([<>])\s*([0-9.eE+-]+)$/.exec(s);
    if (m) { var th = parseFloat(m[2]); return rows.filter(function (r) { return m[1] === ">" ? r[1] > th : r[1] < th; }); }
    function text(r) { return (r[4] + "\u0000" + r[5]).toLowerCase().indexOf(s) >= 0; }
    if (/^\d+$/.test(s)) { var id = parseInt(s, 10); return rows.filter(function (r) { return r[0] === id || text(r); }); }
    return rows.filter(text);
  }
  function apply() {
    shown = filter();
    shown.sort(function (a, b) { var x = a[sortCol], y = b[sortCol], c = x < y ? -1 : x > y ? 1 : 0; return c === 0 ? a[0] - b[0] : asc ? c : -c; });
    ths.forEach(function (th, i) { th.classList.toggle("sorted", cols[i][1] === sortCol); th.classList.toggle("asc", cols[i][1] === sortCol && asc); });
    render();
    writeHash();
  }
  function render() {
    var pages = Math.max(1, Math.ceil(shown.length / PER));
    page = Math.max(0, Math.min(page, pages - 1));
    tbody.textContent = "";
    shown.slice(page * PER, page * PER + PER).forEach(function (r) {
      var tr = el("tr", "latent-row" + (r[1] === 0 ? " dead" : ""));
      var a = el("a", null, "#" + r[0]); a.href = "latents/" + pad(r[0]) + ".html";
      var td = el("td"); td.appendChild(a); tr.appendChild(td);
      var dtd = el("td"), bar = el("span", "bar");
      bar.style.width = r[1] > 0 ? Math.max(1, 60 * (Math.log10(r[1]) + 7) / 7) + "px" : "0px";
      dtd.appendChild(bar); dtd.appendChild(document.createTextNode(r[1] === 0 ? "dead" : (100 * r[1]).toPrecision(3) + "%"));
      tr.appendChild(dtd);
      tr.appendChild(el("td", null, fmt(r[2])));
      tr.appendChild(el("td", null, fmt(r[3])));
      if (M.has_tokens) tr.appendChild(el("td", "label", r[4].replace(/\n/g, "\u21b5")));
      if (M.has_logits) tr.appendChild(el("td", "label", r[5]));
      tbody.appendChild(tr);
    });
    count.textContent = shown.length + " of " + rows.length + " latents";
    pg.textContent = "page " + (page + 1) + " / " + pages;
    prev.disabled = page === 0; next.disabled = page >= pages - 1;
  }
  // the view lives in the URL hash (#q=…&sort=max&asc=0): shareable, and restored on reload
  var KEYS = ["id", "density", "max", "mean", "token", "promoted"]; // column index = row field
  function readHash() {
    var h = {}; location.hash.replace(/^#/, "").split("&").forEach(function (kv) { var i = kv.indexOf("="); if (i > 0) h[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); });
    if (h.q != null) q.value = h.q;
    if (h.sort != null && KEYS.indexOf(h.sort) >= 0) sortCol = KEYS.indexOf(h.sort);
    if (h.asc != null) asc = h.asc === "1";
  }
  function writeHash() {
    var h = "#q=" + encodeURIComponent(q.value) + "&sort=" + KEYS[sortCol] + "&asc=" + (asc ? 1 : 0);
    if (history.replaceState) history.replaceState(null, "", h);
  }
  readHash();
  q.addEventListener("input", function () { page = 0; apply(); });
  prev.addEventListener("click", function () { page--; render(); });
  next.addEventListener("click", function () { page++; render(); });
  apply();
  document.body.setAttribute("data-ready", "1");
})();
