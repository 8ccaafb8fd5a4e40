// One latent's dashboard from window.MSTS_LATENT (no network, no libraries).
(function () {
  "use strict";
  var M = window.MSTS_META, L = window.MSTS_LATENT;
  var app = document.getElementById("app");
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function fmt(v) { if (v === 0) return "0"; var a = Math.abs(v); return a >= 1000 || a < 0.001 ? v.toExponential(2) : v.toPrecision(3); }
  function pad(i) { var s = String(i); while (s.length < 5) s = "0" + s; return s; }
  function show(t) { return t.replace(/\n/g, "\u21b5").replace(/\t/g, "\u21e5"); }
  function panel(parent, title) { var p = el("div", "panel"); p.appendChild(el("h2", null, title)); parent.appendChild(p); return p; }

  var head = el("header", "top");
  head.appendChild(el("h1", null, "Latent " + L.id));
  head.appendChild(el("span", "sub", M.title + " · " + M.architecture + " · " + M.hook_name));
  var nav = el("span", "nav");
  function link(text, href) { var a = el("a", null, text); a.href = href; nav.appendChild(a); return a; }
  link("\u2190 index", "../index.html");
  if (L.id > 0) link("\u2039 #" + (L.id - 1), pad(L.id - 1) + ".html");
  if (L.id < M.d_sae - 1) link("#" + (L.id + 1) + " \u203a", pad(L.id + 1) + ".html");
  head.appendChild(nav);
  app.appendChild(head);
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowLeft" && L.id > 0) location.href = pad(L.id - 1) + ".html";
    if (e.key === "ArrowRight" && L.id < M.d_sae - 1) location.href = pad(L.id + 1) + ".html";
  });
  var main = el("main"); app.appendChild(main);

  var cards = el("div", "cards");
  [["density", L.active === 0 ? "dead" : (100 * L.density).toPrecision(3) + "%"], ["active tokens", L.active.toLocaleString("en") + " / " + M.counted_tokens.toLocaleString("en")],
   ["max act", fmt(L.max)], ["mean when active", fmt(L.mean)]].forEach(function (c) {
    var d = el("div", "card"); d.appendChild(el("div", "k", c[0])); d.appendChild(el("div", "v", c[1])); cards.appendChild(d);
  });
  main.appendChild(cards);

  var grid = el("div", "grid"); main.appendChild(grid);
  // activation histogram (positive activations; bin i = [i·w, (i+1)·w))
  var hp = panel(grid, "Activation histogram (active tokens)");
  var counts = L.hist.counts, w = L.hist.width;
  if (counts.length === 0) hp.appendChild(el("div", "empty", "never active on the scanned tokens"));
  else {
    var W = 420, H = 130, maxc = 1; counts.forEach(function (c) { maxc = Math.max(maxc, c); });
    var bw = (W - 20) / counts.length, s = '<svg id="hist" width="' + W + '" height="' + (H + 20) + '">';
    counts.forEach(function (c, i) {
      var h = c === 0 ? 0 : Math.max(1, H * c / maxc);
      s += '<rect x="' + (10 + i * bw) + '" y="' + (H - h) + '" width="' + Math.max(1, bw - 1) + '" height="' + h + '" fill="#e8590c"><title>[' + fmt(i * w) + ', ' + fmt((i + 1) * w) + '): ' + c + '</title></rect>';
    });
    s += '<text x="8" y="' + (H + 14) + '">0</text><text x="' + (W - 60) + '" y="' + (H + 14) + '">' + fmt(counts.length * w) + '</text>';
    s += '<text x="' + (W / 2 - 40) + '" y="' + (H + 14) + '">activation</text>';
    hp.insertAdjacentHTML("beforeend", s + "</svg>");
    hp.appendChild(el("div", "legend", "tallest bin " + maxc + " tokens; bin width " + fmt(w)));
  }

  // output tokens promoted / suppressed (W_dec · W_U)
  if (L.promoted) {
    var lp = panel(grid, "Output tokens: W_dec \u00b7 W_U");
    var lt = el("table", "logits"); lt.id = "logits";
    var big = 0; L.promoted.concat(L.suppressed).forEach(function (p) { big = Math.max(big, Math.abs(p[1])); });
    for (var i = 0; i < L.promoted.length; i++) {
      var tr = el("tr", "logit"), p = L.suppressed[i], q = L.promoted[i];
      var nb = el("td", "b"), nbar = el("div", "nbar"); nbar.style.width = (100 * Math.abs(p[1]) / big) + "%"; nbar.style.marginLeft = "auto"; nb.appendChild(nbar);
      tr.appendChild(el("td", "v", fmt(p[1]))); tr.appendChild(el("td", null, JSON.stringify(p[0]).slice(1, -1))); tr.appendChild(nb);
      var pb = el("td", "b"), pbar = el("div", "pbar"); pbar.style.width = (100 * Math.abs(q[1]) / big) + "%"; pb.appendChild(pbar);
      tr.appendChild(pb); tr.appendChild(el("td", null, JSON.stringify(q[0]).slice(1, -1))); tr.appendChild(el("td", "v", fmt(q[1])));
      lt.appendChild(tr);
    }
    lp.appendChild(lt);
    lp.appendChild(el("div", "legend", "left: most suppressed, right: most promoted. Direct path only, final RMSNorm and soft-cap left out (as sae_vis / Neuronpedia)."));
  }

  // temporal SAE: conv filter per scale, as this latent's encoder direction sees it
  if (L.conv) {
    var cp = panel(grid, "Temporal filter per scale (" + M.conv_mode + ")");
    var big2 = 0.05; L.conv.forEach(function (sc) { sc.taps.forEach(function (t) { big2 = Math.max(big2, Math.abs(t[1]), t[2]); }); });
    var cw = 130, chH = 90, svg = '<svg id="conv" width="' + (cw * L.conv.length + 10) + '" height="' + (chH + 36) + '">';
    L.conv.forEach(function (sc, k) {
      var x0 = 10 + k * cw, mid = chH / 2 + 4;
      svg += '<line x1="' + x0 + '" x2="' + (x0 + cw - 20) + '" y1="' + mid + '" y2="' + mid + '" stroke="#c9d1dc"/>';
      sc.taps.slice().sort(function (a, b) { return a[0] - b[0]; }).forEach(function (t, j) {
        var h = (chH / 2 - 4) * t[1] / big2, x = x0 + 6 + j * 36, hs = (chH / 2 - 4) * t[2] / big2;
        svg += '<rect x="' + (x - 2) + '" y="' + (mid - hs) + '" width="26" height="' + (2 * hs) + '" fill="#e9ecef"><title>strength ' + fmt(t[2]) + '</title></rect>';
        svg += '<rect class="tap" x="' + (x + 4) + '" y="' + (h >= 0 ? mid - h : mid) + '" width="14" height="' + Math.max(1, Math.abs(h)) + '" fill="' + (t[1] >= 0 ? "#2b8a3e" : "#c92a2a") + '"><title>offset ' + t[0] + ': gain ' + fmt(t[1]) + ', strength ' + fmt(t[2]) + '</title></rect>';
        svg += '<text x="' + (x + 3) + '" y="' + (chH + 16) + '">' + (t[0] > 0 ? "+" : "") + t[0] + '</text>';
      });
      svg += '<text x="' + (x0 + 18) + '" y="' + (chH + 32) + '">dilation ' + sc.dilation + '</text>';
    });
    cp.insertAdjacentHTML("beforeend", svg + "</svg>");
    cp.appendChild(el("div", "legend", "bar: gain of the token at that offset along this latent's encoder direction, relative to the token itself (green +, red \u2212); grey: tap strength in any direction."));
  }

  // top-activating contexts with per-token highlighting
  var ep = panel(main, "Top activating contexts (" + L.examples.length + ")");
  var exs = el("div", "examples"); exs.id = "examples"; ep.appendChild(exs);
  if (L.examples.length === 0) exs.appendChild(el("div", "empty", "no activating context in the scanned tokens"));
  L.examples.forEach(function (e) {
    var row = el("div", "example");
    row.appendChild(el("div", "act", fmt(e.act)));
    row.appendChild(el("div", "where", "seq " + e.seq + " @" + e.pos));
    var ctx = el("div", "ctx");
    for (var t = 0; t < e.acts.length; t++) {
      var a = e.acts[t], p = e.start + t;
      var counted = p >= M.first_position;
      var span = el("span", "tok" + (p === e.pos ? " max" : "") + (a <= 0 || !counted ? " ctxonly" : ""), show(e.toks ? e.toks[t] : (t === 0 ? "" : " ") + "\u00b7"));
      if (a > 0 && counted) span.style.background = "rgba(232, 89, 12, " + Math.min(1, 0.08 + 0.85 * a / L.max).toFixed(3) + ")";
      span.title = "position " + p + (e.ids ? " · token " + e.ids[t] : "") + " · act " + fmt(a) + (counted ? "" : " (context only: not counted)");
      ctx.appendChild(span);
    }
    if (M.temporal) {
      // the activation traced along the sequence around the maximum
      var TW = Math.max(240, 16 * e.acts.length), TH = 34, n = e.acts.length, pts = [];
      for (t = 0; t < n; t++) if (e.start + t >= M.first_position) pts.push((4 + t * (TW - 8) / Math.max(1, n - 1)).toFixed(1) + "," + (TH - 3 - (TH - 6) * Math.max(0, e.acts[t]) / L.max).toFixed(1));
      var mx = 4 + (e.pos - e.start) * (TW - 8) / Math.max(1, n - 1);
      ctx.insertAdjacentHTML("beforeend", '<svg class="trace" width="' + TW + '" height="' + TH + '"><line x1="' + mx + '" x2="' + mx + '" y1="0" y2="' + TH + '" stroke="#f4a57a"/><polyline points="' + pts.join(" ") + '" fill="none" stroke="#1c5fb8" stroke-width="1.5"/></svg>');
    }
    row.appendChild(ctx);
    exs.appendChild(row);
  });
  if (!M.has_tokens) ep.appendChild(el("div", "legend", "the activations carry no token ids: positions are shown as \u00b7"));
  document.body.setAttribute("data-ready", "1");
})();
