// The bci-decode dashboard: reads a session's NATS subjects over the
// WebSocket this page was served with (/nats) and draws them. Everything
// shown comes from messages any controller with the same credentials
// receives; the buttons send the same control requests as
// `bci-decode control`.
import { connect, nkeyAuthenticator } from "./vendor/nats.ws/nats.js";

const WINDOW_S = 10;        // seconds of history drawn
const LAT_WINDOW = 3000;    // intents the timing figures cover
const SILENT_MS = 1000;     // no intent for this long: the banner says so
const MARKERS_KEPT = 200;   // markers a session keeps for drawing
const td = new TextDecoder();
const $ = (id) => document.getElementById(id);

const params = new URLSearchParams(location.search);
const only = params.get("session"); // watch one session (narrow permissions)
let nc = null;
let selected = only;
let eventsRefused = false; // these credentials may not read the events
const sessions = new Map();

// A ring of numbers: latencies, step times.
class Ring {
  constructor(n) { this.v = new Float64Array(n); this.n = 0; this.i = 0; }
  push(x) { this.v[this.i] = x; this.i = (this.i + 1) % this.v.length; this.n = Math.min(this.n + 1, this.v.length); }
  sorted() { return this.v.slice(0, this.n).sort(); }
}

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function session(name) {
  let s = sessions.get(name);
  if (s) return s;
  s = {
    name, intents: [], lastSeq: -1, lastRecv: 0, last: null, gaps: 0, count: 0,
    decodeLat: new Ring(LAT_WINDOW), pageLat: new Ring(LAT_WINDOW), step: new Ring(LAT_WINDOW),
    status: null, truth: new Map(), bins: [], shape: null, feed: null, cursor: [], firstRecv: 0,
    raster: null, rasterCol: 0, chanMax: null, markers: [], markerCount: 0,
  };
  sessions.set(name, s);
  if (!selected) selected = name;
  renderTabs();
  return s;
}

// Wall clock in µs, to compare with the decoder's Unix-ns stamps. The
// high-resolution clock (performance.now() from the page's time origin)
// is precise but drifts from the system clock over a long-open page;
// Date.now() is the system clock, to the ms. The first is corrected to the
// second whenever they part by more than 2 ms.
let clockOffsetMS = 0;
const hiresMS = () => performance.timeOrigin + performance.now();
setInterval(() => {
  const d = Date.now() - hiresMS();
  if (Math.abs(d - clockOffsetMS) > 2) clockOffsetMS = d;
}, 5000);
const nowUS = () => (hiresMS() + clockOffsetMS) * 1000;

function onIntent(name, m) {
  const s = session(name);
  const recv = nowUS();
  let in_;
  try { in_ = JSON.parse(td.decode(m.data)); } catch { return; }
  const watchdog = m.headers && m.headers.has("Bci-Watchdog");
  if (!watchdog) {
    if (s.lastSeq >= 0 && in_.seq > s.lastSeq + 1) s.gaps += in_.seq - s.lastSeq - 1;
    s.lastSeq = Math.max(s.lastSeq, in_.seq);
    s.decodeLat.push((in_.decode_time - in_.sample_time) / 1000);
    s.pageLat.push(recv - in_.sample_time / 1000);
    s.intents.push({ seq: in_.seq, t: in_.sample_time, values: in_.values, status: in_.status });
    const keep = Math.ceil(WINDOW_S * 1e6 / binUS(s)) + 1;
    if (s.intents.length > keep * 1.5) s.intents.splice(0, s.intents.length - keep);
  }
  s.count++;
  s.last = in_;
  s.lastRecv = performance.now();
  if (!s.firstRecv) s.firstRecv = s.lastRecv;
}

function binUS(s) { return s.feed ? s.feed.bin_us : 20000; }

// onEvent keeps a session's markers (an LSL marker stream's, recorded with
// --lsl-markers); other events (clock readings) are not drawn.
function onEvent(name, m) {
  let ev;
  try { ev = JSON.parse(td.decode(m.data)); } catch { return; }
  if (ev.kind !== "lsl-marker" || !Array.isArray(ev.values) || !Number.isFinite(ev.time)) return;
  const s = session(name);
  s.markers.push({ time: ev.time, label: ev.values.join(" ") });
  if (s.markers.length > MARKERS_KEPT) s.markers.splice(0, s.markers.length - MARKERS_KEPT);
  s.markerCount++;
}

function onStatus(name, m) {
  try { session(name).status = JSON.parse(td.decode(m.data)); } catch { /* not a status */ }
}

function onTelemetry(name, m) {
  const s = session(name);
  let f;
  try { f = JSON.parse(td.decode(m.data)); } catch { return; }
  s.feed = f;
  if (f.neurons) {
    const key = JSON.stringify(f.neurons);
    if (key !== s.neuronsKey) { s.neurons = f.neurons; s.neuronsKey = key; }
  } else if (f.bins.length && f.bins[f.bins.length - 1].spikes === undefined) {
    s.neurons = null; s.neuronsKey = null; // no network decodes now
  }
  const keep = Math.ceil(WINDOW_S * 1e6 / f.bin_us);
  for (const b of f.bins) {
    s.step.push(b.step_ns / 1000);
    if (b.target.length) s.truth.set(b.seq, b.target);
    s.bins.push({ seq: b.seq, spikes: b.spikes, layers: b.layer_spikes, energy: b.energy_nj });
    if (b.noise_uv) s.chain = { seq: b.seq, noise: b.noise_uv, thr: b.threshold_uv };
    paintColumn(s, b.features, keep);
  }
  if (s.bins.length > keep * 1.5) s.bins.splice(0, s.bins.length - keep);
  if (s.truth.size > keep * 1.5) {
    const cut = s.bins.length ? s.bins[0].seq : 0;
    for (const k of s.truth.keys()) if (k < cut) s.truth.delete(k);
  }
}

function onCursor(name, m) {
  const s = session(name);
  try { s.cursor.push(JSON.parse(td.decode(m.data))); } catch { return; }
  if (s.cursor.length > 150) s.cursor.splice(0, s.cursor.length - 100);
}

// --- the raster: one column per bin, painted once into an off-screen
// canvas used as a ring; drawn scaled, never recomputed.
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const LUT = new Uint8ClampedArray(256 * 3);
for (let i = 0; i < 256; i++) {
  const x = i / 255 * (VIRIDIS.length - 1), k = Math.min(VIRIDIS.length - 2, Math.floor(x)), t = x - k;
  for (let c = 0; c < 3; c++) LUT[i * 3 + c] = VIRIDIS[k][c] + t * (VIRIDIS[k + 1][c] - VIRIDIS[k][c]);
}

function paintColumn(s, features, cols) {
  const n = features.length;
  if (!s.raster || s.raster.height !== n || s.raster.width !== cols) {
    s.raster = new OffscreenCanvas(cols, n);
    s.rctx = s.raster.getContext("2d");
    s.rctx.fillStyle = "#0d1116"; s.rctx.fillRect(0, 0, cols, n);
    s.col = s.rctx.createImageData(1, n);
    s.chanMax = new Float32Array(n).fill(1);
    s.rasterCol = 0;
  }
  const px = s.col.data;
  for (let c = 0; c < n; c++) {
    const v = Math.max(0, features[c]);
    s.chanMax[c] = Math.max(v, s.chanMax[c] * 0.998, 1e-6);
    const i = Math.round(255 * Math.min(1, v / s.chanMax[c])) * 3;
    const o = (n - 1 - c) * 4; // channel 0 at the bottom
    px[o] = LUT[i]; px[o + 1] = LUT[i + 1]; px[o + 2] = LUT[i + 2]; px[o + 3] = 255;
  }
  s.rctx.putImageData(s.col, s.rasterCol, 0);
  s.rasterCol = (s.rasterCol + 1) % cols;
}

// --- drawing, once per animation frame, for the selected session.
function fit(canvas) {
  const r = window.devicePixelRatio || 1, w = Math.round(canvas.clientWidth * r), h = Math.round(canvas.clientHeight * r);
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.scale(r, r);
  return [ctx, canvas.clientWidth, canvas.clientHeight];
}

// The theme's colours, read once (getComputedStyle is not for every frame).
const colours = new Map();
const css = (v) => {
  if (!colours.has(v)) colours.set(v, getComputedStyle(document.documentElement).getPropertyValue(v).trim());
  return colours.get(v);
};

// line draws ys against xs (seq) over [x0, x1], at most one point per pixel:
// the data keep every point, the drawing thins them.
function line(ctx, pts, x0, x1, y0, y1, box, color) {
  const [bx, by, bw, bh] = box;
  const stride = Math.max(1, Math.ceil(pts.length / bw));
  ctx.strokeStyle = color; ctx.lineWidth = 1.4; ctx.beginPath();
  let first = true;
  for (let i = 0; i < pts.length; i += stride) {
    const [x, y] = pts[i];
    if (x < x0) continue;
    const px = bx + (x - x0) / (x1 - x0) * bw, py = by + bh - (y - y0) / (y1 - y0) * bh;
    if (first) { ctx.moveTo(px, py); first = false; } else ctx.lineTo(px, py);
  }
  ctx.stroke();
}

function axisLabel(ctx, text, x, y) {
  ctx.fillStyle = css("--dim"); ctx.font = "11px system-ui"; ctx.fillText(text, x, y);
}

function drawTraces(s) {
  const [ctx, w, h] = fit($("traces"));
  markersNote(s);
  if (!s.intents.length) return;
  const dims = s.intents[s.intents.length - 1].values.length;
  const last = s.lastSeq, span = Math.ceil(WINDOW_S * 1e6 / binUS(s)), x0 = last - span;
  const names = s.feed && s.feed.targets.length ? s.feed.targets : null;
  const rowH = h / Math.max(1, dims);
  for (let d = 0; d < dims; d++) {
    const dec = s.intents.map((it) => [it.seq, it.values[d]]);
    const tru = [];
    for (const it of s.intents) { const t = s.truth.get(it.seq); if (t) tru.push([it.seq, t[d]]); }
    let m = 1;
    for (const p of dec) m = Math.max(m, Math.abs(p[1]));
    for (const p of tru) m = Math.max(m, Math.abs(p[1]));
    const box = [36, d * rowH + 6, w - 44, rowH - 14];
    ctx.strokeStyle = css("--line"); ctx.beginPath();
    ctx.moveTo(box[0], box[1] + box[3] / 2); ctx.lineTo(box[0] + box[2], box[1] + box[3] / 2); ctx.stroke();
    if (tru.length) line(ctx, tru, x0, last, -m, m, box, css("--true"));
    line(ctx, dec, x0, last, -m, m, box, css("--dec"));
    axisLabel(ctx, (names && names[d]) || (s.last && s.last.kind + " " + d), 4, box[1] + 10);
    axisLabel(ctx, "±" + m.toPrecision(2), 4, box[1] + box[3]);
  }
  drawMarkers(s, ctx, x0, last, [36, 0, w - 44, h]);
}

// drawMarkers draws each marker of the window as a dashed line at the bin
// it fell in: its time (this machine's clock, as the intents' stamps) is
// placed by the newest intent's bin end and the bin width.
function drawMarkers(s, ctx, x0, x1, box) {
  const newest = s.intents[s.intents.length - 1], binNS = binUS(s) * 1000;
  const [bx, by, bw, bh] = box;
  let shown = 0;
  ctx.save();
  ctx.setLineDash([4, 3]); ctx.strokeStyle = css("--warn"); ctx.fillStyle = css("--warn"); ctx.font = "11px system-ui";
  for (const mk of s.markers) {
    const x = newest.seq - (newest.t - mk.time) / binNS;
    if (x < x0 || x > x1) continue;
    const px = bx + (x - x0) / (x1 - x0) * bw;
    ctx.beginPath(); ctx.moveTo(px, by); ctx.lineTo(px, by + bh); ctx.stroke();
    ctx.fillText(mk.label.slice(0, 24), px + 3, by + 22);
    shown++;
  }
  ctx.restore();
  $("traces").setAttribute("aria-label", `decoded output against true, ${shown} marker${shown === 1 ? "" : "s"} shown`);
}

// markersNote names the session's last marker, or says the credentials
// may not read markers.
function markersNote(s) {
  show("markers-note", eventsRefused || s.markerCount > 0);
  if (eventsRefused) { text("markers-note", `no markers: these credentials may not read bci.${s.name}.events`); return; }
  if (!s.markerCount) return;
  const lastMk = s.markers[s.markers.length - 1];
  const ago = Math.max(0, (nowUS() - lastMk.time / 1000) / 1e6);
  text("markers-note", `${s.markerCount} marker${s.markerCount === 1 ? "" : "s"}; the last, "${lastMk.label}", ${ago.toFixed(1)} s ago`);
}

function drawCursor(s) {
  show("cursor-panel", s.cursor.length > 0);
  if (!s.cursor.length) return;
  const c = s.cursor[s.cursor.length - 1];
  text("trial", `trial ${c.trial} · ${c.state}`);
  const [ctx, w, h] = fit($("cursor"));
  let r = 10;
  for (const p of s.cursor) r = Math.max(r, Math.abs(p.pos[0]), Math.abs(p.pos[1]), Math.abs(p.target[0]) + p.radius, Math.abs(p.target[1]) + p.radius);
  const sc = Math.min(w, h) / 2 / (r * 1.1), cx = w / 2, cy = h / 2;
  const X = (x) => cx + x * sc, Y = (y) => cy - y * sc;
  ctx.strokeStyle = css("--line"); ctx.strokeRect(X(-r), Y(r), 2 * r * sc, 2 * r * sc);
  ctx.fillStyle = "rgba(63,178,127,.25)"; ctx.strokeStyle = css("--ok");
  ctx.beginPath(); ctx.arc(X(c.target[0]), Y(c.target[1]), c.radius * sc, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
  ctx.strokeStyle = "rgba(88,166,255,.5)"; ctx.beginPath();
  s.cursor.slice(-100).forEach((p, i) => i ? ctx.lineTo(X(p.pos[0]), Y(p.pos[1])) : ctx.moveTo(X(p.pos[0]), Y(p.pos[1])));
  ctx.stroke();
  ctx.fillStyle = c.status === "ok" ? css("--dec") : css("--bad");
  ctx.beginPath(); ctx.arc(X(c.pos[0]), Y(c.pos[1]), 5, 0, 2 * Math.PI); ctx.fill();
}

function drawRaster(s) {
  const canvas = $("raster");
  const [ctx, w, h] = fit(canvas);
  if (!s.raster) { text("input-note", "no feature feed (start the session with --http or --telemetry)"); return; }
  text("input-note", `binned features, ${s.raster.height} channels, last ${WINDOW_S} s, scaled per channel`);
  ctx.imageSmoothingEnabled = false;
  const cols = s.raster.width, split = s.rasterCol, bw = w - 36;
  // Oldest columns (from split to the end) first, then the newest.
  const left = (cols - split) / cols * bw;
  ctx.drawImage(s.raster, split, 0, cols - split, s.raster.height, 36, 0, left, h);
  if (split > 0) ctx.drawImage(s.raster, 0, 0, split, s.raster.height, 36 + left, 0, bw - left, h);
  axisLabel(ctx, "ch " + (s.raster.height - 1), 2, 10);
  axisLabel(ctx, "ch 0", 2, h - 2);
}

// drawChain shows a continuous source's spike detection: each channel's
// noise estimate (bars) and crossing threshold (ticks), in µV.
function drawChain(s) {
  show("chain-panel", !!s.chain);
  if (!s.chain) return;
  const { noise, thr } = s.chain;
  const [ctx, w, h] = fit($("chain"));
  if (!noise.some((v) => v > 0)) { text("chain-note", "calibrating the noise estimates…"); return; }
  const m = Math.max(...thr.map(Math.abs), ...noise), bw = (w - 36) / noise.length;
  ctx.fillStyle = css("--dec");
  noise.forEach((v, c) => { const bh = (h - 6) * v / m; ctx.fillRect(36 + c * bw, h - bh, Math.max(1, bw - 1), bh); });
  ctx.fillStyle = css("--recv");
  thr.forEach((v, c) => { ctx.fillRect(36 + c * bw, h - (h - 6) * Math.abs(v) / m - 1, Math.max(1, bw - 1), 2); });
  axisLabel(ctx, `${m.toFixed(0)} µV`, 2, 10);
  const mean = noise.reduce((a, b) => a + b, 0) / noise.length;
  text("chain-note", `noise σ (bars) and threshold (ticks) per channel; mean σ ${mean.toFixed(1)} µV`);
}

function drawSNN(s) {
  const spiking = s.bins.filter((b) => b.spikes !== undefined);
  show("snn", spiking.length > 0);
  const [ctx, w, h] = fit($("snn"));
  if (!spiking.length) { text("snn-note", s.feed ? "this decoder has no spiking layers" : ""); return; }
  const x1 = spiking[spiking.length - 1].seq, x0 = x1 - Math.ceil(WINDOW_S * 1e6 / binUS(s));
  const sp = spiking.map((b) => [b.seq, b.spikes]), en = spiking.map((b) => [b.seq, b.energy]);
  const ms = Math.max(1, ...sp.map((p) => p[1])), me = Math.max(1e-9, ...en.map((p) => p[1]));
  const lastB = spiking[spiking.length - 1], nl = (lastB.layers || []).length;
  line(ctx, sp, x0, x1, 0, ms * 1.1, [36, 4, w - 44, h / 2 - 8], css("--dec"));
  if (nl > 1) { // each layer's share, fainter, under the total
    for (let l = 0; l < nl; l++) {
      const pts = spiking.filter((b) => b.layers && b.layers.length === nl).map((b) => [b.seq, b.layers[l]]);
      ctx.globalAlpha = 0.35 + 0.4 * l / (nl - 1);
      line(ctx, pts, x0, x1, 0, ms * 1.1, [36, 4, w - 44, h / 2 - 8], css("--true"));
      ctx.globalAlpha = 1;
    }
  }
  line(ctx, en, x0, x1, 0, me * 1.1, [36, h / 2 + 4, w - 44, h / 2 - 8], css("--recv"));
  show("layers-legend", nl > 1);
  const per = nl > 1 ? ` (${lastB.layers.map((n, l) => `layer ${l + 1}: ${n}`).join(", ")})` : "";
  text("snn-note", `${lastB.spikes} spikes${per}, ${lastB.energy.toFixed(1)} nJ in the last step`);
  axisLabel(ctx, "spikes", 2, 14); axisLabel(ctx, "nJ", 2, h / 2 + 14);
}

// drawNeurons shows how far each neuron parameter spreads in each layer:
// a histogram over the parameter's valid range, and its mean ± sd. It is
// rebuilt only when another network's description arrives.
function drawNeurons(s) {
  const nv = s.neurons;
  show("neurons-panel", !!nv);
  if (!nv) { s.neuronsShown = null; return; }
  if (s.neuronsShown === s.neuronsKey) return;
  s.neuronsShown = s.neuronsKey;
  const of = nv.members > 1 ? ` (the first of an ensemble of ${nv.members}, whose spikes add up above)` : "";
  text("neurons-note", `${nv.kind}: ${nv.sizes.join(" + ")} neurons${of}; each parameter's spread per layer, over its valid range`);
  const t = $("neurons-table");
  t.replaceChildren();
  const head = t.insertRow();
  head.appendChild(document.createElement("th"));
  nv.sizes.forEach((n, l) => { const th = document.createElement("th"); th.textContent = `layer ${l + 1}`; head.appendChild(th); });
  for (const name of nv.names) {
    const row = t.insertRow();
    const th = document.createElement("th"); th.textContent = name; row.appendChild(th);
    nv.params[name].forEach((sp, l) => {
      const td = row.insertCell();
      td.dataset.testid = `neuron-${name}-${l + 1}`;
      td.title = `${name}, layer ${l + 1}: min ${sp.min.toPrecision(3)}, max ${sp.max.toPrecision(3)}, range ${sp.lo}–${sp.hi}`;
      const bars = document.createElement("span"); bars.className = "spread";
      const m = Math.max(1, ...sp.hist);
      for (const c of sp.hist) { const i = document.createElement("i"); i.style.height = `${c ? Math.max(8, 100 * c / m) : 0}%`; bars.appendChild(i); }
      td.append(bars, `${sp.mean.toPrecision(3)} ± ${sp.sd.toPrecision(2)}`);
    });
  }
}

// The latency histogram: log-spaced bins from 1 µs to 10 s.
const HB = 70, H0 = 0, H1 = 7;
function histogram(sorted) {
  const out = new Float64Array(HB);
  for (const v of sorted) {
    const k = Math.floor((Math.log10(Math.max(v, 1)) - H0) / (H1 - H0) * HB);
    out[Math.max(0, Math.min(HB - 1, k))]++;
  }
  return out;
}

function drawHist(dec, page) {
  const [ctx, w, h] = fit($("hist"));
  const hd = histogram(dec), hp = histogram(page);
  const m = Math.max(1, ...hd, ...hp), bw = (w - 10) / HB;
  for (const [hs, color, off] of [[hd, css("--dec"), 0], [hp, css("--recv"), bw / 2]]) {
    ctx.fillStyle = color;
    hs.forEach((c, i) => { if (c) { const bh = (h - 18) * Math.sqrt(c / m); ctx.fillRect(5 + i * bw + off, h - 16 - bh, bw / 2, bh); } });
  }
  for (let d = H0; d <= H1; d++) axisLabel(ctx, ["1µs", "10µs", "100µs", "1ms", "10ms", "100ms", "1s", "10s"][d], 5 + (d - H0) / (H1 - H0) * (w - 10) - 8, h - 3);
}

const fmtUS = (us) => !isFinite(us) ? "—" : us < 1000 ? `${us.toFixed(us < 10 ? 1 : 0)} µs` : us < 1e6 ? `${(us / 1000).toFixed(us < 1e4 ? 2 : 1)} ms` : `${(us / 1e6).toFixed(2)} s`;

// text, show and prop write to the page only what changed: every write
// makes the browser restyle.
function text(id, v) { const e = $(id); if (e.textContent !== String(v)) e.textContent = v; }
function show(id, on) { const e = $(id); if (e.hidden === on) e.hidden = !on; }
function prop(id, k, v) { const e = $(id); if (e[k] !== v) e[k] = v; }

function drawFigures(s) {
  const dec = s.decodeLat.sorted(), page = s.pageLat.sorted(), step = s.step.sorted();
  for (const [pre, v] of [["latency", dec], ["page", page], ["step", step]]) {
    text(pre + "-p50", fmtUS(quantile(v, 0.5)));
    text(pre + "-p99", fmtUS(quantile(v, 0.99)));
    text(pre + "-p999", fmtUS(quantile(v, 0.999)));
  }
  text("timing-note", `last ${dec.length} intents`);
  drawHist(dec, page);
  const st = s.status || {}, out = st.outputs || {}, wd = out.watchdog;
  text("published", st.intents_published ?? "—");
  text("dropped", st.intents_dropped ?? "—");
  text("gaps", s.gaps);
  text("rec-gaps", out.bins ? out.bins.gaps : "not recording");
  text("watchdog", wd ? `${wd.state} (stale ${wd.stale}, halted ${wd.halted})` : "off");
  text("feed-lost", s.feed ? s.feed.lost + s.feed.skipped : "—");
}

function drawIdentity(s) {
  const st = s.status || {}, in_ = s.last;
  text("session", s.name);
  text("intent-seq", s.lastSeq >= 0 ? s.lastSeq : "—");
  const status = in_ ? in_.status : "—";
  text("intent-status", status);
  prop("intent-status", "className", "status " + status);
  const model = (in_ && in_.model) || st.model || "";
  text("model", model ? model.slice(0, 12) : "—");
  prop("model", "title", model);
  text("decoder", st.decoder || "—");
  text("swaps", st.pipeline ? st.pipeline.swaps : "—");
  text("rate", st.rate_hz ? `${st.rate_hz.toFixed(1)} intents/s` : "—");
  const sc = out(st).score;
  text("score", sc ? `R² ${sc.r2.toFixed(3)} over ${sc.n} bins` : "—");
  text("shadow", shadowText(out(st).shadow));
  const [src, cls] = sourceText(st.source);
  text("source", src);
  prop("source", "className", cls);
}

// sourceText says how the input is doing, and a class to colour it by,
// from the source's report in status: an LSL stream's connection, losses
// and clock offset (the report of a continuous stream's signal chain
// nests the stream's own), a stream's clock jumps.
function sourceText(src) {
  if (!src) return ["—", ""];
  const lsl = src.source && src.source.samples !== undefined ? src.source : src.samples !== undefined ? src : null;
  const jumps = src.time_jumps ? `${src.time_jumps} clock jumps (${src.time_jumped_ms.toFixed(1)} ms)` : "";
  if (lsl) {
    const name = `LSL "${lsl.stream}"`, lost = lsl.lost_samples + lsl.dropped_stale;
    if (!lsl.connected) return [`${name}: disconnected${lsl.last_error ? ` (${lsl.last_error})` : ""}`, "bad"];
    const txt = `${name}: ${lsl.samples} samples, ${lost} lost, clock offset ${lsl.clock_offset_ms.toFixed(2)} ms (rtt ${lsl.rtt_ms.toFixed(2)} ms)`;
    return [jumps ? `${txt}; ${jumps}` : txt, lost || jumps ? "warn" : ""];
  }
  if (jumps) return [jumps, "warn"];
  return ["ok", ""];
}

// shadowText names the model decoding beside the live one (--shadow) and
// how closely the two agree, from the shadow's report in status.
function shadowText(sh) {
  if (!sh || !sh.shadow) return "none";
  const a = sh.agreement ? `agreement R² ${sh.agreement.r2.toFixed(3)}` : "agreement —";
  const r2 = sh.shadow.r2 != null ? `, R² ${sh.shadow.r2.toFixed(3)}` : "";
  return `${sh.shadow.decoder} ${sh.shadow.model.slice(0, 12)}${r2}, ${a}`;
}
const out = (st) => st.outputs || {};

// The banner says what a controller would do: nothing on halted or stale
// intents, and nothing when none arrive.
function drawBanner(s) {
  const b = $("banner");
  let cls = "", msg = "";
  const silent = s && s.lastRecv && performance.now() - s.lastRecv > SILENT_MS;
  if (!nc) { cls = "off"; msg = $("conn").textContent; }
  else if (!s) { cls = "off"; msg = "waiting for a session to publish…"; }
  else if (silent) { cls = "silent"; msg = `NO INTENTS for ${((performance.now() - s.lastRecv) / 1000).toFixed(1)} s — the session is not publishing`; }
  else if (s.last && s.last.status === "halted") { cls = "halted"; msg = "HALTED — intents are published halted (paused, input lost, or decoder fault): controllers stop"; }
  else if (s.last && s.last.status === "stale") { cls = "stale"; msg = "STALE — input missing: intents mean stop"; }
  show("banner", !!cls);
  prop("banner", "className", "banner " + cls);
  text("banner", msg);
}

// frame redraws what changed, in an animation frame that a 15 Hz timer
// asks for: the plots when data came (15 frames a second is enough for a
// 10 s window, and drawing is most of the page's cost; a page that asked
// for every frame would make the browser work at 60), the percentiles (a
// sort of the window) twice a second, the banner always.
let dirty = false, lastFigures = 0, asked = false;
function frame(now) {
  asked = false;
  const s = selected && sessions.get(selected);
  drawBanner(s);
  if (s && dirty) {
    dirty = false;
    drawIdentity(s);
    drawTraces(s);
    drawCursor(s);
    drawRaster(s);
    drawChain(s);
    drawSNN(s);
    drawNeurons(s);
  }
  if (s && now - lastFigures >= 500) {
    lastFigures = now;
    drawFigures(s);
  }
}
setInterval(() => { if (!asked) { asked = true; requestAnimationFrame(frame); } }, 66);

function renderTabs() {
  const nav = $("sessions");
  nav.replaceChildren(...[...sessions.keys()].sort().map((name) => {
    const b = document.createElement("button");
    b.textContent = name;
    b.dataset.testid = "session-" + name;
    b.setAttribute("aria-current", String(name === selected));
    b.onclick = () => { selected = name; dirty = true; renderTabs(); listModels(); };
    return b;
  }));
}

// --- control: the session's control service, as `bci-decode control` calls it.
async function control(verb, body) {
  const r = $("control-result");
  if (!nc || !selected) return;
  r.className = "note"; r.textContent = `${verb}…`;
  try {
    const m = await nc.request(`bci.${selected}.control.${verb}`, body ? new TextEncoder().encode(JSON.stringify(body)) : undefined, { timeout: 5000 });
    const err = m.headers && m.headers.get("Nats-Service-Error");
    if (err) throw new Error(err);
    const info = JSON.parse(td.decode(m.data));
    r.textContent = `${verb}: done — ${info.paused ? "paused" : "decoding"}, model ${info.model.slice(0, 12)}`;
  } catch (e) {
    r.className = "note err"; r.textContent = `${verb} failed: ${e.message}`;
  }
}

// listModels fills the swap list from the bci-models object store, if
// there is one (the page never creates it).
async function listModels() {
  const sel = $("swap-model");
  if (!nc) return;
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.info("OBJ_bci-models");
    const store = await nc.jetstream().views.os("bci-models");
    const infos = await store.list();
    const keep = sel.value;
    sel.replaceChildren(new Option("stored models…", ""), ...infos.map((i) => new Option(`${i.name.slice(0, 12)} ${i.description || ""}`, i.name)));
    if (keep) sel.value = keep;
  } catch (e) {
    sel.replaceChildren(new Option(`no model store (${e.message})`, ""));
  }
}

$("pause").onclick = () => control("pause");
$("resume").onclick = () => control("resume");
$("swap").onclick = () => {
  const model = $("swap-model").value;
  if (!model) { $("control-result").textContent = "choose a stored model to swap to"; return; }
  control("swap", { model });
};
$("swap-model").onfocus = listModels;

// --- the connection.
function setConn(cls, msg) { const c = $("conn"); c.className = "pill " + cls; c.textContent = msg; }

async function subscribe(subject, fn) {
  const sub = nc.subscribe(subject);
  for await (const m of sub) {
    const name = m.subject.split(".")[1];
    if (only && name !== only) continue;
    fn(name, m);
    if (name === selected) dirty = true;
  }
}

// watchStatus follows the connection: lost and back, and what the server
// refused (a permission these credentials lack), which is said, not fatal.
async function watchStatus(c) {
  for await (const st of c.status()) {
    switch (st.type) {
      case "disconnect": case "reconnecting": setConn("bad", "NATS: reconnecting…"); break;
      case "reconnect": setConn("ok", "connected"); break;
      case "error": text("nats-note", `server refused: ${String(st.data).toLowerCase().replaceAll("_", " ")}`); break;
    }
  }
}

async function start(creds) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  setConn("", "connecting…");
  try {
    nc = await connect({ servers: `${proto}//${location.host}/nats`, name: "bci-decode dashboard", maxReconnectAttempts: -1, reconnectTimeWait: 500, ...creds });
  } catch (e) {
    nc = null;
    const auth = /auth/i.test(e.message) || e.code === "AUTHORIZATION_VIOLATION";
    setConn("bad", auth ? "not connected: the server wants credentials" : `not connected: ${e.message}`);
    $("login").hidden = !auth;
    $("main").hidden = auth;
    if (!auth) setTimeout(() => start(creds), 2000);
    return;
  }
  $("login").hidden = true;
  $("main").hidden = false;
  setConn("ok", "connected");
  watchStatus(nc);
  nc.closed().then((err) => { nc = null; setConn("bad", `closed${err ? ": " + err.message : ""}`); });
  const tok = only || "*";
  for (const [leaf, fn] of [["intent", onIntent], ["status", onStatus], ["telemetry", onTelemetry], ["cursor", onCursor]]) {
    subscribe(`bci.${tok}.${leaf}`, fn).catch((e) => setConn("bad", `subscribe ${leaf}: ${e.message}`));
  }
  // Markers are optional: credentials that may not read them still follow
  // the session.
  eventsRefused = false;
  subscribe(`bci.${tok}.events`, onEvent).catch(() => { eventsRefused = true; dirty = true; });
  listModels();
}

$("login").onsubmit = (ev) => {
  ev.preventDefault();
  const token = $("cred-token").value, user = $("cred-user").value, pass = $("cred-password").value;
  const seed = $("cred-nkey").value.trim();
  text("login-error", "");
  if (seed) {
    // A user seed is "SU" and base32; anything else would fail inside the
    // client, far from the field that was wrong.
    if (!/^SU[A-Z2-7]{56}$/.test(seed)) { text("login-error", "not an NKey user seed (58 characters starting SU)"); return; }
    start({ authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)) });
    return;
  }
  start(token ? { token } : { user, pass });
};

start({});
