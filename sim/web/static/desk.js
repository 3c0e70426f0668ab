// The desk page: chart, order ticket with the desk's echo, positions, orders, wallet, clock.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const { api, fmt, money, px, signed, when, esc, short } = MF;
  MF.nav("desk");
  let state = null, symbol = null, venue = null, lastBar = null, fillsSeen = -1, lines = [], loggedSeen = 0;
  const multi = () => state.account.venues.length > 1;  // several venues: each row names its own
  const at = () => `symbol=${encodeURIComponent(symbol)}&venue=${encodeURIComponent(venue)}`;
  const chart = MF.chart($("chart"));
  let inScale = [];  // price lines near enough to the market to widen the scale for
  const series = MF.candles(chart, () => inScale);
  const NEAR = 0.03;  // lines within 3% of the last price are kept in view (others: legend)

  async function loadCandles() {
    const r = await api(`/api/candles?${at()}&n=1500`);
    if (!r.ok) return;
    MF.setBars(series, r.data.bars);
    lastBar = r.data.bars.length ? r.data.bars[r.data.bars.length - 1].time : null;
    period = r.data.period_ms / 1000;
    await loadMarkers();
  }
  let period = 60;
  async function loadMarkers() {
    const r = await api(`/api/fills?${at()}`);
    if (!r.ok) return;
    const markers = r.data.map((f) => ({
      time: Math.floor(f.ts_ms / 1000 / period) * period,
      position: f.side === "buy" ? "belowBar" : "aboveBar",
      color: f.side === "buy" ? "#22c55e" : "#ef4444",
      shape: f.side === "buy" ? "arrowUp" : "arrowDown",
      text: `${f.side} ${fmt(f.contracts)} @ ${px(f.price)}`,
    }));
    series.price.setMarkers(markers.filter((m) => lastBar === null || m.time <= lastBar));
  }
  async function refreshBars() {
    const r = await api(`/api/candles?${at()}&n=3`);
    if (!r.ok || !r.data.bars.length) return;
    const bars = r.data.bars;
    if (lastBar !== null && bars[0].time > lastBar + period) return loadCandles();
    for (const b of bars) {
      if (lastBar !== null && b.time < lastBar) continue;
      series.price.update({ time: b.time, open: b.open, high: b.high, low: b.low, close: b.close });
      series.volume.update(MF.volumeBar(b));
      lastBar = b.time;
    }
  }

  let priceLines = [], farLines = "";
  function drawLines() {
    priceLines.forEach((l) => series.price.removePriceLine(l));
    priceLines = [];
    const last = Number(((state.venue_prices[venue] || {})[symbol] || {}).last) || null;
    const far = [];
    inScale = [];
    const add = (price, color, title, style) => {
      const l = MF.line(series.price, price, color, title, style);
      if (!l) return;
      priceLines.push(l);
      if (!last || Math.abs(Number(price) / last - 1) <= NEAR) inScale.push(Number(price));
      else far.push(`${title} ${px(price)}`);
    };
    for (const p of state.positions.filter((p) => p.symbol === symbol && p.venue === venue)) {
      add(p.entry, "#93c5fd", `entry ${p.side}`, 0);
      add(p.liquidation_price, "#f43f5e", "liquidation", 0);
      add(p.stop, "#f59e0b", "stop");
      add(p.take_profit, "#22c55e", "take profit");
    }
    for (const o of state.orders.filter((o) => o.symbol === symbol && o.venue === venue && !o.parent_id)) {
      add(o.price || o.trigger_price, "#a78bfa", `${o.order_id} ${o.side} ${o.order_type}`);
    }
    farLines = far.length ? `  · off chart: ${far.join(", ")}` : "";
  }

  function legend() {
    const p = (state.venue_prices[venue] || {})[symbol];
    if (p) $("legend").textContent = `last ${px(p.last)}  mark ${px(p.mark)}${farLines}`;
  }

  function tabs() {
    $("tabs").innerHTML = state.account.markets.map((m) =>
      `<button class="small ${m.symbol === symbol && m.venue === venue ? "on" : ""}" data-s="${esc(m.symbol)}" data-v="${esc(m.venue)}">${multi() ? esc(m.venue) + " " : ""}${esc(short(m.symbol))}</button>`
    ).join("") + `<span class=legend id=legend></span>`;
    $("tabs").querySelectorAll("button").forEach((b) => b.onclick = () => {
      symbol = b.dataset.s; venue = b.dataset.v; tabs();
      loadCandles().then(() => { drawLines(); legend(); });
    });
  }

  function wallet(a) {
    const g = a.guards;
    $("equity").innerHTML = `${money(a.equity)} <span class=dim style="font-size:12px">${esc(a.currency)} equity</span>`;
    const rows = [
      ...Object.entries(a.wallets).map(([c, v]) => [`${c} wallet`, money(v)]),
      ["available", money(a.available)],
      ["today", `${signed(g.day_result)} <span class=dim>/ −${money(g.loss_limit)}</span>`],
      ["trades today", `${g.trades_today} / ${g.max_trades_per_day ?? "∞"}`],
      ["guards", g.locked ? `<span class="badge lock">LOCKED until ${when(g.locked_until_ms)} · exits only</span>` : "<span class=up>open</span>"],
      ["feed", esc(a.feed)],
    ];
    if (a.venues.length > 1) {  // every venue's account: its equity and wallet
      rows.splice(0, 0, ...a.venues.map((v) => [`${esc(v.venue)} equity`, `${money(v.equity)} <span class=dim>(${esc(v.account)})</span>`]));
    }
    $("wallet").innerHTML = rows.map(([k, v]) => `<div>${k}</div><div>${v}</div>`).join("");
    $("meta").textContent = `${a.account} · ${a.venue} · ${a.source}`;
  }

  function clock(a) {
    const c = a.clock;
    $("clock-time").textContent = when(a.now_ms, true) + " UTC";
    $("replay-controls").style.display = c ? "" : "none";
    const st = $("clock-state");
    if (!c) { st.textContent = "LIVE"; st.className = "badge run"; return; }
    st.textContent = c.paused ? "PAUSED" : `PLAY ×${c.speed}`;
    st.className = "badge " + (c.paused ? "pause" : "run");
  }

  function positions() {
    const venueCol = multi() ? [{ t: "venue", l: 1, f: (r) => esc(r.venue) }] : [];
    MF.table($("positions"), [
      ...venueCol,
      { t: "symbol", l: 1, f: (p) => `<a href="/trades/${esc(p.trade)}">${esc(short(p.symbol))}</a> <span class=${p.side === "long" ? "up" : "down"}>${p.side}</span>` },
      { t: "contracts", f: (p) => fmt(p.contracts) }, { t: "×mult", f: (p) => fmt(p.multiplier) },
      { t: "notional", f: (p) => money(p.notional) }, { t: "entry", f: (p) => px(p.entry) },
      { t: "mark", f: (p) => px(p.mark) }, { t: "uPnL", f: (p) => signed(p.upnl) },
      { t: "margin", f: (p) => money(p.margin) },
      { t: "ratio", f: (p) => fmt(Number(p.margin_ratio) * 100, 2) + "%" },
      { t: "liq price", f: (p) => p.liquidation_price ? `<span class=liq>${px(p.liquidation_price)}</span>` : `<span class=dim title="${esc(p.liquidation_note)}">none</span>` },
      { t: "liq dist", f: (p) => p.liquidation_distance_pct ? fmt(p.liquidation_distance_pct, 2) + "%" : "–" },
      { t: "lev", f: (p) => `${fmt(p.leverage)}x ${p.margin_mode}` },
      { t: "stop", f: (p) => px(p.stop) }, { t: "tp", f: (p) => px(p.take_profit) },
      { t: "", f: (p) => `<button class="small sell" data-close="${esc(short(p.symbol))}" data-venue="${esc(p.venue)}">close</button>` },
    ], state.positions, "no open positions");
    $("positions").querySelectorAll("[data-close]").forEach((b) =>
      b.onclick = () => run(`close ${b.dataset.close}`, b.dataset.venue));
  }

  function orders() {
    const venueCol = multi() ? [{ t: "venue", l: 1, f: (r) => esc(r.venue) }] : [];
    MF.table($("orders"), [
      ...venueCol,
      { t: "id", l: 1, f: (o) => esc(o.order_id) }, { t: "symbol", f: (o) => esc(short(o.symbol)) },
      { t: "side", f: (o) => `<span class=${o.side === "buy" ? "up" : "down"}>${o.side}</span>` },
      { t: "type", f: (o) => esc(o.order_type) }, { t: "contracts", f: (o) => fmt(o.contracts) },
      { t: "filled", f: (o) => fmt(o.filled) }, { t: "price", f: (o) => px(o.price) },
      { t: "trigger", f: (o) => px(o.trigger_price) },
      { t: "flags", f: (o) => esc([o.reduce_only ? "reduce" : "", o.time_in_force !== "GTC" ? o.time_in_force : "", o.tag || ""].filter(Boolean).join(" ")) },
      { t: "amend", f: (o) => `<input size=9 data-amend="${esc(o.order_id)}" data-venue="${esc(o.venue)}" data-field="${o.price ? "price" : "trigger"}" placeholder="${o.price ? "price" : "trigger"}"> <button class=small data-do-amend="${esc(o.order_id)}" data-venue="${esc(o.venue)}">amend</button>` },
      { t: "", f: (o) => `<button class="small sell" data-cancel="${esc(o.order_id)}" data-venue="${esc(o.venue)}">cancel</button>` },
    ], state.orders, "no working orders");
    const on = (b) => `/api/orders/${b.dataset.cancel || b.dataset.doAmend}?venue=${encodeURIComponent(b.dataset.venue)}`;
    $("orders").querySelectorAll("[data-cancel]").forEach((b) => b.onclick = async () => {
      show(await api(on(b), { method: "DELETE" }));
    });
    $("orders").querySelectorAll("[data-do-amend]").forEach((b) => b.onclick = async () => {
      const input = $("orders").querySelector(`input[data-amend="${b.dataset.doAmend}"][data-venue="${b.dataset.venue}"]`);
      show(await api(on(b), { method: "PATCH", body: { [input.dataset.field]: input.value } }));
    });
  }

  function log(newLines) {
    lines = lines.concat(newLines).slice(-300);
    const el = $("log");
    el.innerHTML = lines.map((l) => {
      const cls = l.startsWith("error") || l.includes("REJECTED") || l.startsWith("DENIED") || l.startsWith("LIQUIDATED") ? "err" : l.startsWith("→") ? "echo-l" : l.startsWith(">") ? "cmd" : "";
      return `<div class="${cls}">${esc(l)}</div>`;
    }).join("");
    el.scrollTop = el.scrollHeight;
  }

  let busy = false;
  async function apply(s) {
    const first = state === null;
    state = s;
    if (first) {
      const m = s.account.markets, pick = m[m.length > 1 && m[1].venue === m[0].venue ? 1 : 0];
      symbol = pick.symbol; venue = pick.venue; venues(s.account); tabs(); await loadCandles();
    }
    wallet(s.account); clock(s.account); positions(); orders(); drawLines();
    const fresh = Math.min(s.logged - loggedSeen, s.log.length);
    if (fresh > 0) log(s.log.slice(-fresh));
    loggedSeen = Math.max(loggedSeen, s.logged);
    if (busy) return;
    busy = true;
    try {
      await refreshBars();
      if (s.fills !== fillsSeen) { fillsSeen = s.fills; await loadMarkers(); }
      legend();
    } finally { busy = false; }
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/ws`);
    ws.onmessage = (m) => apply(JSON.parse(m.data));
    ws.onclose = () => setTimeout(connect, 1500);
  }

  // ---- the ticket: echo as you type, send on Enter ----
  let echoTimer = null;
  let echoSeq = 0;
  async function echo() {
    const text = $("ticket-input").value.trim();
    const el = $("echo");
    const seq = ++echoSeq;
    if (!text) { el.textContent = ""; el.className = "echo"; return; }
    const r = await api("/api/preview", { method: "POST", body: { text, venue: ticketVenue() } });
    if (seq !== echoSeq) return;  // a later keystroke's echo is on its way
    if (!r.ok || !r.data.ok) { el.textContent = r.data.error; el.className = "echo err"; return; }
    el.className = "echo";
    el.textContent = r.data.echoes.length ? r.data.echoes.map((e) => e.line).join("\n") : "(no order to echo: press Enter to run it)";
  }
  function show(r) {
    const el = $("result");
    el.className = "result" + (r.ok ? "" : " err");
    el.textContent = r.ok ? (r.data.lines || []).join("\n") : r.data.error;
  }
  // the ticket's venue: the first one unless another is chosen (shown with several venues)
  const ticketVenue = () => $("ticket-venue").value || null;
  function venues(a) {
    const sel = $("ticket-venue");
    sel.innerHTML = a.venues.map((v) => `<option value="${esc(v.venue)}">${esc(v.venue)}</option>`).join("");
    sel.style.display = a.venues.length > 1 ? "" : "none";
  }
  async function run(text, venue) {
    const r = await api("/api/orders", { method: "POST", body: { text, venue: venue || ticketVenue() } });
    show(r);
    return r;
  }
  $("ticket-input").addEventListener("input", () => { clearTimeout(echoTimer); echoTimer = setTimeout(echo, 150); });
  $("ticket-venue").addEventListener("change", echo);
  $("ticket-input").addEventListener("keydown", (e) => { if (e.key === "Enter") $("send").click(); });
  $("send").onclick = async () => {
    const text = $("ticket-input").value.trim();
    if (!text) return;
    const r = await run(text);
    if (r.ok) { $("ticket-input").value = ""; $("echo").textContent = ""; }
  };

  // ---- replay controls ----
  const pace = async (path, body) => show(await api(`/api/replay/${path}`, { method: "POST", body }));
  $("btn-pause").onclick = () => pace("pause");
  $("btn-resume").onclick = () => pace("resume");
  $("btn-step1").onclick = () => pace("step", { bars: 1 });
  $("btn-step10").onclick = () => pace("step", { bars: 10 });
  $("btn-step60").onclick = () => pace("step", { bars: 60 });
  $("speed").onchange = () => pace("speed", { speed: Number($("speed").value) });

  api("/api/state").then((r) => { if (r.ok) apply(r.data); connect(); });
})();
