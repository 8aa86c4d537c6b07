// Strata operator view: one SSE stream (/api/events) carries a snapshot,
// then events, link status and coalesced telemetry. No framework, no build.
"use strict";
const NS = "http://www.w3.org/2000/svg";
const W = 1000, H = 600, PAD = 40;
const S = { nodes: {}, links: {}, tele: {}, policies: {}, services: {}, selected: null, lastBreach: {} };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function fmt(x, p) { return x === undefined || x === null ? "-" : Number(x).toFixed(p); }
function clock(ms) { const d = new Date(ms); return d.toTimeString().slice(0, 8) + "." + String(d.getMilliseconds()).padStart(3, "0"); }

// Equirectangular, x scaled by cos(mid latitude) so the map is not stretched.
function projector(nodes) {
  const pts = nodes.filter((n) => n.lat !== null && n.lon !== null);
  if (!pts.length) return null;
  const lats = pts.map((n) => n.lat), lons = pts.map((n) => n.lon);
  const k = Math.cos(((Math.min(...lats) + Math.max(...lats)) / 2) * Math.PI / 180);
  const x0 = Math.min(...lons) * k, x1 = Math.max(...lons) * k, y0 = Math.min(...lats), y1 = Math.max(...lats);
  const s = Math.min((W - 2 * PAD) / Math.max(x1 - x0, 1e-6), (H - 2 * PAD) / Math.max(y1 - y0, 1e-6));
  const ox = (W - (x1 - x0) * s) / 2, oy = (H - (y1 - y0) * s) / 2;
  return (lat, lon) => [ox + (lon * k - x0) * s, H - (oy + (lat - y0) * s)];
}

function place(nodes) {
  const proj = projector(nodes);
  const sites = {};
  nodes.forEach((n, i) => {
    const key = n.lat === null || !proj ? "grid" + i : n.lat + "," + n.lon;
    (sites[key] = sites[key] || []).push(n);
  });
  const pos = {};
  let g = 0;
  for (const key in sites) {
    const group = sites[key];
    const n0 = group[0];
    let [cx, cy] = proj && n0.lat !== null ? proj(n0.lat, n0.lon) : [PAD + (g % 10) * 90, PAD + Math.floor(g / 10) * 60];
    g++;
    // Devices of one site share its coordinates: fan them out around it.
    group.forEach((n, i) => {
      const a = (2 * Math.PI * i) / group.length - Math.PI / 2;
      const r = group.length > 1 ? 9 : 0;
      pos[n.name] = [cx + r * Math.cos(a), cy + r * Math.sin(a)];
    });
  }
  return pos;
}

function health(name) {
  const l = S.links[name], t = S.tele[name] || {};
  if (!l) return "unknown";
  if (l.status === "down" || t.up === 0) return "down";
  if (l.status === "degraded" || t.state === "degraded") return "degraded";
  if (t.state === "recovering") return "recovering";
  return "healthy";
}

function draw(snap) {
  const topo = snap.topology;
  $("fabric").textContent = topo.name;
  S.nodes = {}; S.links = {}; S.policies = {}; S.services = {};
  topo.nodes.forEach((n) => (S.nodes[n.name] = n));
  topo.links.forEach((l) => (S.links[l.name] = l));
  const pos = place(topo.nodes);
  for (const layer of ["packet", "optical", "fiber"]) $("layer-" + layer).replaceChildren();
  $("nodes").replaceChildren();
  // Parallel links between the same pair of sites are drawn side by side.
  const pairs = {};
  for (const l of topo.links) {
    const pa = pos[l.a], pb = pos[l.b];
    if (!pa || !pb) continue;
    const key = [l.a, l.b].sort().join("|");
    const idx = (pairs[key] = (pairs[key] || 0) + 1) - 1;
    const dx = pb[0] - pa[0], dy = pb[1] - pa[1], len = Math.hypot(dx, dy) || 1;
    const off = (idx % 2 ? 1 : -1) * Math.ceil(idx / 2) * 3;
    const nx = (-dy / len) * off, ny = (dx / len) * off;
    const layer = ["packet", "optical", "fiber"].includes(l.layer) ? l.layer : "packet";
    const line = el("line", {
      x1: pa[0] + nx, y1: pa[1] + ny, x2: pb[0] + nx, y2: pb[1] + ny,
      class: "link", "data-link": l.name, "data-layer": layer, "data-health": "healthy",
    }, $("layer-" + layer));
    line.addEventListener("mousemove", (ev) => tip(ev, l.name));
    line.addEventListener("mouseleave", () => ($("tip").hidden = true));
  }
  for (const n of topo.nodes) {
    const p = pos[n.name];
    if (!p) continue;
    const g = el("g", { class: "node", "data-node": n.name, "data-role": n.role, "data-session": n.session }, $("nodes"));
    el("circle", { cx: p[0], cy: p[1], r: n.role === "optical" ? 3.5 : 4.5 }, g);
    el("title", {}, g).textContent = n.name + (n.site ? " — " + n.site : "") + " (" + n.role + ", session " + n.session + ")";
    if (n.name.endsWith("pe1") || topo.nodes.length <= 12) {
      const t = el("text", { x: p[0] + 10, y: p[1] - 8 }, g);
      t.textContent = topo.nodes.length <= 12 ? n.name : n.site || n.name;
    }
  }
  const tb = $("links").tBodies[0];
  tb.replaceChildren();
  for (const l of topo.links) {
    const tr = tb.insertRow();
    tr.dataset.link = l.name;
    tr.innerHTML = `<td>${l.name}</td><td>${l.layer}</td><td class="num">${l.latency_us}</td><td class="num d"></td><td class="num l"></td><td class="num o"></td><td class="num r">${fmt(l.reserved_gbps, 1)}</td><td class="h"></td>`;
  }
  snap.policies.forEach((p) => (S.policies[p.id] = p));
  snap.services.forEach((s) => (S.services[s.id] = s));
  $("feed").replaceChildren();
  snap.recent.forEach(feed);
  summary(snap.reroutes);
  tables();
  refresh();
}

function tip(ev, name) {
  const l = S.links[name], t = S.tele[name] || {}, box = $("mapbox").getBoundingClientRect();
  const tipEl = $("tip");
  tipEl.textContent = `${name} (${l.layer})  ${l.a} ↔ ${l.b}\nhealth   ${health(name)}\nTE       ${l.latency_us} µs\ndelay    ${fmt(t.delay_us, 0)} µs\nloss     ${fmt(t.loss_percent, 2)} %\nOSNR     ${fmt(t.osnr_db, 1)} dB\nreserved ${fmt(l.reserved_gbps, 1)} / ${fmt(l.capacity_gbps, 0)} Gb/s`;
  tipEl.style.left = ev.clientX - box.left + 14 + "px";
  tipEl.style.top = ev.clientY - box.top + 14 + "px";
  tipEl.hidden = false;
}

function refresh() {
  const hl = new Set(S.selected && S.policies[S.selected] ? S.policies[S.selected].links : []);
  document.querySelectorAll(".link").forEach((e) => {
    const n = e.dataset.link;
    e.setAttribute("data-health", health(n));
    e.classList.toggle("hl", hl.has(n));
  });
  for (const tr of $("links").tBodies[0].rows) {
    const n = tr.dataset.link, t = S.tele[n] || {};
    tr.querySelector(".d").textContent = fmt(t.delay_us, 0);
    tr.querySelector(".l").textContent = fmt(t.loss_percent, 2);
    tr.querySelector(".o").textContent = fmt(t.osnr_db, 1);
    const h = health(n), hc = tr.querySelector(".h");
    hc.textContent = h; hc.className = "h h-" + h;
    tr.classList.toggle("sel", hl.has(n));
  }
  let bad = 0;
  for (const n in S.links) if (health(n) !== "healthy") bad++;
  $("summary").dataset.unhealthy = bad;
}

function summary(r) {
  const links = Object.keys(S.links).length, nodes = Object.keys(S.nodes).length;
  const rr = r && r.count ? ` · reroutes ${r.count} (last: breach → headends acked in ${fmt(r.last_ms, 1)} ms)` : "";
  $("summary").textContent = `${nodes} nodes · ${links} links · ${Object.keys(S.policies).length} policies · ${Object.keys(S.services).length} services${rr}`;
}

function tables() {
  const sb = $("services").tBodies[0];
  sb.replaceChildren();
  for (const s of Object.values(S.services)) {
    const tr = sb.insertRow();
    tr.dataset.service = s.id;
    tr.innerHTML = `<td>${s.id}</td><td>${s.name}</td><td>${s.type}</td><td class="num">${fmt(s.bandwidth_gbps, 1)}</td><td class="h-${s.state === "active" ? "healthy" : "degraded"}">${s.state}</td>`;
  }
  const pb = $("policies").tBodies[0];
  pb.replaceChildren();
  for (const p of Object.values(S.policies)) {
    const tr = pb.insertRow();
    tr.className = "clickable" + (p.id === S.selected ? " sel" : "");
    tr.dataset.policy = p.id;
    tr.innerHTML = `<td>${p.id}</td><td>${p.name}</td><td>${p.headend} → ${p.endpoint}</td><td class="num">${p.latency_us}</td><td class="h-${p.state === "programmed" ? "healthy" : "down"}">${p.state}</td>`;
    tr.title = p.links.join(" > ") + (p.sids.length ? "  [SIDs " + p.sids.join(" ") + "]" : "");
    tr.addEventListener("click", () => { S.selected = S.selected === p.id ? null : p.id; tables(); refresh(); });
  }
}

function feed(e) {
  let text;
  const o = e.object || {};
  if (e.kind === "breach") { text = `BREACH ${o.link} ${o.metric} ${fmt(o.value, 1)} (threshold ${fmt(o.threshold, 1)})`; S.lastBreach = { link: o.link, t: e.time_ms }; }
  else if (e.kind === "cleared") text = `cleared ${o.link}`;
  else if (e.kind === "reroute") text = `reroute ${o.id} (${o.name}) → ${o.links.join(" > ")} [${e.reason}]`;
  else if (e.kind === "device") text = e.reason || `device ${o.device} session ${o.session}`;
  else if (e.kind === "miscabled") text = `MISCABLED ${o.link}: ${e.reason}`;
  else if (e.kind === "recabled") text = `cabling of ${o.link} agrees with the topology again`;
  else if (e.kind === "topology") text = e.reason;
  else return;
  const li = document.createElement("li");
  li.className = e.kind;
  li.dataset.kind = e.kind;
  const t = document.createElement("span");
  t.className = "t"; t.textContent = clock(e.time_ms);
  li.append(t, text);
  // A reroute's delay from the breach that caused it, as the operator asks first.
  if (e.kind === "reroute" && S.lastBreach.t && e.reason.includes(S.lastBreach.link)) {
    const dt = document.createElement("span");
    dt.className = "dt"; dt.textContent = ` +${fmt(e.time_ms - S.lastBreach.t, 1)} ms after breach`;
    li.append(dt);
  }
  const list = $("feed");
  list.prepend(li);
  while (list.children.length > 200) list.lastChild.remove();
}

function onEvent(e) {
  const o = e.object || {};
  if (e.kind === "breach" && S.links[o.link]) S.links[o.link].status = "degraded";
  if ((e.kind === "reroute" || e.kind === "policy") && o.id) {
    if (e.change === "deleted") delete S.policies[o.id]; else S.policies[o.id] = o;
    tables();
  }
  if (e.kind === "service" && o.id) {
    if (e.change === "deleted") delete S.services[o.id]; else S.services[o.id] = o;
    tables();
  }
  if (e.kind === "device" && S.nodes[o.device]) {
    const g = document.querySelector(`.node[data-node="${CSS.escape(o.device)}"]`);
    if (g) g.setAttribute("data-session", o.session);
  }
  feed(e);
  summary();
  refresh();
}

function connect() {
  const es = new EventSource("/api/events");
  const conn = $("conn");
  const snap = (m) => { draw(JSON.parse(m.data)); conn.textContent = "live"; conn.dataset.state = "live"; };
  es.addEventListener("snapshot", snap);
  // The server skipped this page ahead (it fell behind): start over from its state.
  es.addEventListener("resync", snap);
  es.addEventListener("event", (m) => onEvent(JSON.parse(m.data)));
  es.addEventListener("object", (m) => onEvent(JSON.parse(m.data)));
  es.addEventListener("links", (m) => {
    const st = JSON.parse(m.data);
    for (const n in st) if (S.links[n]) S.links[n].status = st[n];
    refresh();
  });
  es.addEventListener("telemetry", (m) => {
    const batch = JSON.parse(m.data);
    for (const n in batch) S.tele[n] = Object.assign(S.tele[n] || {}, batch[n]);
    refresh();
  });
  es.onerror = () => { conn.textContent = "reconnecting…"; conn.dataset.state = "lost"; };
}

document.querySelectorAll(".layers input").forEach((cb) =>
  cb.addEventListener("change", () => $("layer-" + cb.dataset.layer).classList.toggle("off", !cb.checked)));
connect();
