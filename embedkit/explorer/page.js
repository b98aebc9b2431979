// embedkit explore: the map page. No network, no library: data come from the inline <script> blocks.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const D = JSON.parse($("data").textContent);

  function blob(name, Type) {
    const text = atob($("blob-" + name).textContent.trim());
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return new Type(bytes.buffer);
  }
  const xy = blob("xy", Float32Array), lab = blob("label", Uint16Array);
  const nbr = blob("nbr", Int32Array), cos = blob("cos", Float32Array);
  const keys = D.keys, m = D.mapped, K = D.k, NONE = 0xffff;
  const keyIndex = new Map();
  for (let i = 0; i < keys.length; i++) if (!keyIndex.has(keys[i])) keyIndex.set(keys[i], i);

  // ---- colours and the legend ---------------------------------------------------------------
  const nLabels = D.labels.length;
  const hex = D.colours.concat([nLabels ? "#d0d0d0" : "#1f77b4"]);   // last: unlabelled / no labels
  function packed(c) {   // "#rrggbb" -> 0xAABBGGRR (ImageData is RGBA bytes, little-endian words)
    const v = parseInt(c.slice(1), 16);
    return (0xff000000 | ((v & 0xff) << 16) | (v & 0xff00) | ((v >> 16) & 0xff)) >>> 0;
  }
  const colour32 = new Uint32Array(hex.map(packed));
  const hidden = new Uint8Array(nLabels + 1);
  const slot = (l) => (l === NONE ? nLabels : l);
  const counts = new Uint32Array(nLabels + 1);
  for (let i = 0; i < m; i++) counts[slot(lab[i])]++;
  if (nLabels) {
    $("legend-box").hidden = false;
    const ul = $("legend");
    for (let l = 0; l <= nLabels; l++) {
      if (!counts[l]) continue;
      const li = document.createElement("li");
      const sw = document.createElement("span"); sw.className = "swatch"; sw.style.background = hex[l];
      const name = document.createElement("span"); name.textContent = l < nLabels ? D.labels[l] : "(unlabelled)";
      const count = document.createElement("span"); count.className = "count"; count.textContent = counts[l].toLocaleString();
      li.append(sw, name, count);
      li.title = "show / hide";
      li.addEventListener("click", () => { hidden[l] ^= 1; li.classList.toggle("off", !!hidden[l]); schedule(); });
      ul.append(li);
    }
  }
  let about = `${D.method} of ${D.mapped.toLocaleString()} keys (dim ${D.dim}); ${K} nearest neighbours each by cosine similarity.`;
  if (D.sampled) {
    about = `${D.method} of a random sample of ${D.mapped.toLocaleString()} of ${D.n.toLocaleString()} keys ` +
      `(seed ${D.seed}): only the sample is drawn; neighbours are searched among all ${D.n.toLocaleString()} keys.`;
  }
  $("about").textContent = about;

  // ---- view: screen = world * s + (x, y), world y up --------------------------------------------
  const box = $("map-box"), canvas = $("map"), ctx = canvas.getContext("2d");
  let W = 1, H = 1, dpr = 1, image = null, pix = null, s0 = 1;
  const view = { s: 1, x: 0, y: 0 };
  let selected = -1, hover = -1, pending = false;
  const order = new Uint32Array(m);   // drawing order: shuffled, so no label always lies on top
  for (let i = 0; i < m; i++) order[i] = i;
  let seed = 12345;
  for (let i = m - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const j = seed % (i + 1), t = order[i]; order[i] = order[j]; order[j] = t;
  }
  const side0 = Math.max(2, Math.min(8, 160 / Math.sqrt(m)));   // point size in CSS px at the start

  function fit() { s0 = 0.9 * Math.min(W, H); view.s = s0; view.x = W / 2; view.y = H / 2; }
  function resize() {
    const first = W === 1 && H === 1;
    const cx = (W / 2 - view.x) / view.s, cy = (view.y - H / 2) / view.s;
    dpr = window.devicePixelRatio || 1;
    W = Math.max(1, box.clientWidth); H = Math.max(1, box.clientHeight);
    canvas.width = Math.max(1, Math.round(W * dpr)); canvas.height = Math.max(1, Math.round(H * dpr));
    image = ctx.createImageData(canvas.width, canvas.height);
    pix = new Uint32Array(image.data.buffer);
    if (first) fit(); else { s0 = 0.9 * Math.min(W, H); view.x = W / 2 - cx * view.s; view.y = H / 2 + cy * view.s; }
    draw();
  }
  const sx = (i) => xy[2 * i] * view.s + view.x;
  const sy = (i) => -xy[2 * i + 1] * view.s + view.y;
  function schedule() { if (!pending) { pending = true; requestAnimationFrame(draw); } }

  function draw() {
    pending = false;
    const started = performance.now();
    const cw = canvas.width, ch = canvas.height;
    const s = view.s * dpr, ox = view.x * dpr, oy = view.y * dpr;
    const side = Math.min(14, side0 * Math.sqrt(view.s / s0)) * dpr;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (m <= 5000) {   // few points: round dots with canvas paths
      ctx.clearRect(0, 0, cw, ch);
      const r = side / 2;
      for (let c = 0; c <= nLabels; c++) {
        if (hidden[c]) continue;
        ctx.beginPath();
        for (let t = 0; t < m; t++) {
          const i = order[t];
          if (slot(lab[i]) !== c) continue;
          const px = xy[2 * i] * s + ox, py = -xy[2 * i + 1] * s + oy;
          if (px < -r || py < -r || px > cw + r || py > ch + r) continue;
          ctx.moveTo(px + r, py); ctx.arc(px, py, r, 0, 2 * Math.PI);
        }
        ctx.fillStyle = hex[c]; ctx.globalAlpha = 0.85; ctx.fill();
      }
      ctx.globalAlpha = 1;
    } else {   // many points: squares written straight into the pixel buffer
      pix.fill(0xffffffff);
      const w = Math.max(1, Math.round(side)), h = w / 2;
      for (let t = 0; t < m; t++) {
        const i = order[t], c = slot(lab[i]);
        if (hidden[c]) continue;
        const fx = xy[2 * i] * s + ox - h, fy = -xy[2 * i + 1] * s + oy - h;
        if (fx <= -w || fy <= -w || fx >= cw || fy >= ch) continue;
        const px = fx | 0, py = fy | 0, colour = colour32[c];
        const x0 = px < 0 ? 0 : px, x1 = px + w > cw ? cw : px + w;
        const y0 = py < 0 ? 0 : py, y1 = py + w > ch ? ch : py + w;
        for (let yy = y0; yy < y1; yy++) { const row = yy * cw; for (let xx = x0; xx < x1; xx++) pix[row + xx] = colour; }
      }
      ctx.putImageData(image, 0, 0);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const ring = Math.max(4, side / dpr / 2 + 3);
    if (selected >= 0 && selected < m) {
      ctx.lineWidth = 1; ctx.strokeStyle = "rgba(0,0,0,.25)";
      ctx.beginPath();
      for (let j = 0; j < K; j++) {
        const n = nbr[selected * K + j];
        if (n < m) { ctx.moveTo(sx(selected), sy(selected)); ctx.lineTo(sx(n), sy(n)); }
      }
      ctx.stroke();
      ctx.textBaseline = "middle";
      for (let j = K - 1; j >= 0; j--) {
        const n = nbr[selected * K + j];
        if (n >= m) continue;
        ctx.beginPath(); ctx.arc(sx(n), sy(n), ring, 0, 2 * Math.PI);
        ctx.lineWidth = 1.5; ctx.strokeStyle = "#333"; ctx.stroke();
      }
      ctx.beginPath(); ctx.arc(sx(selected), sy(selected), ring + 3, 0, 2 * Math.PI);
      ctx.lineWidth = 3; ctx.strokeStyle = "#e0115f"; ctx.stroke();
      // names: the selected key first, then the neighbours, most similar first, skipping any that would overlap
      const placed = [];
      ctx.font = "bold 13px system-ui, sans-serif";
      label(keys[selected], sx(selected) + ring + 5, sy(selected), "#e0115f", placed);
      ctx.font = "12px system-ui, sans-serif";
      for (let j = 0; j < K; j++) {
        const n = nbr[selected * K + j];
        if (n < m) label(keys[n], sx(n) + ring + 2, sy(n), "#333", placed);
      }
    }
    if (hover >= 0) {
      ctx.beginPath(); ctx.arc(sx(hover), sy(hover), ring, 0, 2 * Math.PI);
      ctx.lineWidth = 2; ctx.strokeStyle = "#000"; ctx.stroke();
    }
    document.body.dataset.drawMs = (performance.now() - started).toFixed(1);   // the last frame's cost
  }
  function label(text, x, y, colour, placed) {
    const w = ctx.measureText(text).width, box = [x - 1, y - 8, x + w + 1, y + 8];
    if (placed.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) return;
    placed.push(box);
    ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,.85)"; ctx.strokeText(text, x, y);
    ctx.fillStyle = colour; ctx.fillText(text, x, y);
  }

  // ---- which point is under the pointer: a grid over the world square [-0.5, 0.5]^2 ------------
  const G = Math.max(8, Math.min(1024, Math.ceil(Math.sqrt(m / 2))));
  const cell = (v) => { const c = Math.floor((v + 0.5) * G); return c < 0 ? 0 : c >= G ? G - 1 : c; };
  const cellStart = new Uint32Array(G * G + 1), cellItems = new Uint32Array(m);
  {
    const cellOf = new Uint32Array(m);
    for (let i = 0; i < m; i++) { cellOf[i] = cell(xy[2 * i]) + G * cell(xy[2 * i + 1]); cellStart[cellOf[i] + 1]++; }
    for (let c = 0; c < G * G; c++) cellStart[c + 1] += cellStart[c];
    const fill = cellStart.slice(0, G * G);
    for (let i = 0; i < m; i++) cellItems[fill[cellOf[i]]++] = i;
  }
  function pointAt(cx, cy) {   // CSS pixels -> the nearest visible point within a few pixels, or -1
    const wx = (cx - view.x) / view.s, wy = (view.y - cy) / view.s;
    const radius = Math.max(6, Math.min(14, side0 * Math.sqrt(view.s / s0)) / 2 + 3) / view.s;
    let best = -1, bestD = radius * radius;
    const gx0 = cell(wx - radius), gx1 = cell(wx + radius), gy0 = cell(wy - radius), gy1 = cell(wy + radius);
    for (let gy = gy0; gy <= gy1; gy++) for (let gx = gx0; gx <= gx1; gx++) {
      const c = gx + G * gy;
      for (let t = cellStart[c]; t < cellStart[c + 1]; t++) {
        const i = cellItems[t];
        if (hidden[slot(lab[i])]) continue;
        const dx = xy[2 * i] - wx, dy = xy[2 * i + 1] - wy, d = dx * dx + dy * dy;
        if (d <= bestD) { bestD = d; best = i; }
      }
    }
    return best;
  }

  // ---- pan, zoom, hover, click ------------------------------------------------------------------
  const tooltip = $("tooltip");
  let press = null;
  function zoomAt(cx, cy, factor) {
    const s = Math.max(s0 / 4, Math.min(s0 * 20000, view.s * factor));
    const wx = (cx - view.x) / view.s, wy = (view.y - cy) / view.s;
    view.s = s; view.x = cx - wx * s; view.y = cy + wy * s;
    schedule();
  }
  const local = (e) => { const r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const [cx, cy] = local(e);
    zoomAt(cx, cy, Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015)));
  }, { passive: false });
  canvas.addEventListener("pointerdown", (e) => {
    const [cx, cy] = local(e);
    press = { cx, cy, x: view.x, y: view.y, moved: false };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", (e) => {
    const [cx, cy] = local(e);
    if (press) {
      if (Math.abs(cx - press.cx) + Math.abs(cy - press.cy) > 3) press.moved = true;
      if (press.moved) {
        canvas.classList.add("dragging");
        view.x = press.x + cx - press.cx; view.y = press.y + cy - press.cy;
        tooltip.hidden = true; schedule();
        return;
      }
    }
    const i = pointAt(cx, cy);
    if (i !== hover) { hover = i; schedule(); }
    if (i < 0) { tooltip.hidden = true; return; }
    const text = D.labelText && D.labelText[i] ? `${keys[i]} — ${D.labelText[i]}` : keys[i];
    tooltip.textContent = text;
    tooltip.hidden = false;
    tooltip.style.left = Math.min(cx + 12, W - tooltip.offsetWidth - 4) + "px";
    tooltip.style.top = Math.max(0, cy - 28) + "px";
  });
  canvas.addEventListener("pointerup", (e) => {
    const [cx, cy] = local(e);
    if (press && !press.moved) { const i = pointAt(cx, cy); if (i >= 0) choose(keys[i], false); }
    press = null; canvas.classList.remove("dragging");
  });
  canvas.addEventListener("pointerleave", () => { if (!press) { hover = -1; tooltip.hidden = true; schedule(); } });
  $("zoom-in").addEventListener("click", () => zoomAt(W / 2, H / 2, 1.6));
  $("zoom-out").addEventListener("click", () => zoomAt(W / 2, H / 2, 1 / 1.6));
  $("reset").addEventListener("click", () => { fit(); schedule(); });

  // ---- selection: #q=KEY ---------------------------------------------------------------------------
  function choose(key, centre) {
    const hash = "#q=" + encodeURIComponent(key);
    centreNext = centre;
    if (location.hash === hash) fromHash(); else location.hash = hash;
  }
  let centreNext = true;
  function fromHash() {
    const h = location.hash.replace(/^#/, "").replace(/&bench=\d+$/, "");
    if (!h.startsWith("q=")) return;
    let key;
    try { key = decodeURIComponent(h.slice(2)); } catch (err) { key = h.slice(2); }
    select(key, centreNext);
    centreNext = true;
  }
  function select(key, centre) {
    const list = $("neighbors"), info = $("selected-info"), title = $("selected");
    list.replaceChildren();
    const i = keyIndex.has(key) ? keyIndex.get(key) : -1;
    title.textContent = key;
    if (i < 0 || i >= m) {
      selected = -1; schedule();
      info.textContent = i < 0 ? `No key "${key}" in this map.`
        : `"${key}" is not among the ${m.toLocaleString()} sampled keys drawn on this map.`;
      return;
    }
    selected = i;
    const labelText = D.labelText && D.labelText[i] ? ` Label: ${D.labelText[i]}.` : "";
    info.textContent = `${K} nearest neighbours, most similar first (cosine).${labelText}`;
    for (let j = 0; j < K; j++) {
      const n = nbr[i * K + j];
      const li = document.createElement("li");
      li.dataset.key = keys[n];
      li.dataset.similarity = cos[i * K + j].toFixed(6);
      const k = document.createElement("span"); k.className = "key"; k.textContent = keys[n];
      const sim = document.createElement("span"); sim.className = "sim"; sim.textContent = cos[i * K + j].toFixed(3);
      li.append(k);
      if (n >= m) { const off = document.createElement("span"); off.className = "off-map"; off.textContent = " (not drawn)"; li.append(off); }
      li.append(sim);
      li.addEventListener("click", () => choose(keys[n], true));
      list.append(li);
    }
    if (centre) {   // bring the key and its neighbours on the map into view
      let x0 = xy[2 * i], x1 = x0, y0 = xy[2 * i + 1], y1 = y0, inside = true;
      for (let j = -1; j < K; j++) {
        const n = j < 0 ? i : nbr[i * K + j];
        if (n >= m) continue;
        const x = xy[2 * n], y = xy[2 * n + 1];
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
        if (sx(n) < 30 || sy(n) < 30 || sx(n) > W - 90 || sy(n) > H - 30) inside = false;
      }
      // the scale at which the group fills 60% of the view, at most 3x the whole map's (context stays)
      const fitted = Math.min(s0 * 3, 0.6 * Math.min(W / Math.max(x1 - x0, 1e-9), H / Math.max(y1 - y0, 1e-9)));
      if (!inside || view.s * 1.5 < fitted) {
        const s = inside ? Math.max(view.s, fitted) : fitted;
        view.s = s; view.x = W / 2 - (x0 + x1) / 2 * s; view.y = H / 2 + (y0 + y1) / 2 * s;
      }
    }
    schedule();
  }
  window.addEventListener("hashchange", fromHash);

  // ---- search ------------------------------------------------------------------------------------
  const search = $("search"), matches = $("matches");
  let lower = null, active = -1, found = [];
  function find(q) {
    if (!lower) lower = keys.slice(0, m).map((k) => k.toLowerCase());
    const ql = q.toLowerCase(), exact = [], prefix = [], inside = [];
    for (let i = 0; i < m && exact.length + prefix.length < 30; i++) {
      const k = lower[i];
      if (keys[i] === q) exact.push(i);
      else if (k.startsWith(ql)) prefix.push(i);
      else if (inside.length < 30 && k.includes(ql)) inside.push(i);
    }
    return exact.concat(prefix, inside).slice(0, 30);
  }
  function showMatches() {
    const q = search.value.trim();
    matches.replaceChildren();
    active = -1;
    if (!q) { matches.hidden = true; found = []; return; }
    found = find(q);
    if (!found.length) {
      const li = document.createElement("li"); li.className = "none"; li.textContent = "no key matches";
      matches.append(li);
    }
    for (const i of found) {
      const li = document.createElement("li"); li.textContent = keys[i];
      li.addEventListener("mousedown", (e) => { e.preventDefault(); pick(i); });
      matches.append(li);
    }
    matches.hidden = false;
  }
  function pick(i) { matches.hidden = true; search.value = keys[i]; choose(keys[i], true); }
  search.addEventListener("input", showMatches);
  search.addEventListener("focus", showMatches);
  search.addEventListener("blur", () => { matches.hidden = true; });
  search.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!found.length) return;
      active = (active + (e.key === "ArrowDown" ? 1 : found.length - 1)) % found.length;
      [...matches.children].forEach((li, j) => li.classList.toggle("active", j === active));
      matches.children[active].scrollIntoView({ block: "nearest" });
    } else if (e.key === "Enter") {
      const q = search.value.trim();
      if (active >= 0) pick(found[active]);
      else if (keyIndex.has(q)) pick(keyIndex.get(q));
      else if (found.length) pick(found[0]);
    } else if (e.key === "Escape") { matches.hidden = true; }
  });

  new ResizeObserver(resize).observe(box);
  resize();
  fromHash();
  // #bench=N (benchmarks/explore_page.py): draw N frames of a pan and record the mean cost per frame
  const bench = /(?:^#|&)bench=(\d+)/.exec(location.hash);
  if (bench) {
    const frames = +bench[1], t0 = performance.now();
    for (let f = 0; f < frames; f++) { view.x += 3; view.s *= 1.01; draw(); }
    document.body.dataset.frameMs = ((performance.now() - t0) / frames).toFixed(2);
  }
})();
