// One trade: its chart (entry/exit markers, stop and take-profit zones, liquidation line),
// fills, funding, orders, and its notes and tags (editable once the trade is closed).
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const { api, fmt, money, px, signed, when, esc, short } = MF;
  MF.nav("trades");
  const ref = decodeURIComponent(location.pathname.split("/").pop());
  const chart = MF.chart($("chart"));
  let levels = [];
  const series = MF.candles(chart, () => levels);
  series.price.applyOptions({ lastValueVisible: false, priceLineVisible: false });

  function zone(from, to, base, edge, color) {
    if (base === null || edge === null || !from || to < from) return;
    const z = chart.addBaselineSeries({
      baseValue: { type: "price", price: base }, lineWidth: 1, lastValueVisible: false,
      priceLineVisible: false, crosshairMarkerVisible: false,
      topLineColor: color, bottomLineColor: color,
      topFillColor1: color.replace("1)", "0.22)"), topFillColor2: color.replace("1)", "0.22)"),
      bottomFillColor1: color.replace("1)", "0.22)"), bottomFillColor2: color.replace("1)", "0.22)"),
    });
    const pts = [];
    for (let t = from; t <= to; t += period) pts.push({ time: t, value: edge });
    z.setData(pts);
  }
  let period = 60;

  async function drawChart(story) {
    const t = story.trade;
    const at = `symbol=${encodeURIComponent(t.symbol)}&venue=${encodeURIComponent(t.venue || "")}`;
    const first = await api(`/api/candles?${at}&n=1`);
    if (!first.ok) return;
    const periodMs = first.data.period_ms;
    period = periodMs / 1000;
    const openMs = t.open_ts_ms ?? (story.fills[0] || {}).ts_ms;
    const start = openMs - 90 * periodMs;
    const end = t.close_ts_ms ? t.close_ts_ms + 40 * periodMs : "";
    const r = await api(`/api/candles?${at}&n=5000&start=${start}&end=${end}`);
    if (!r.ok || !r.data.bars.length) return;
    const bars = r.data.bars;
    MF.setBars(series, bars);
    const bucket = (ms) => Math.floor(ms / 1000 / period) * period;
    const from = bucket(openMs);
    const to = t.close_ts_ms ? bucket(t.close_ts_ms) : bars[bars.length - 1].time;
    const entry = Number(t.entry_price);
    const stop = MF.num(t.stop_at_entry), tp = MF.num(t.take_profit), liq = MF.num(t.liquidation_price);
    zone(from, to, entry, stop, "rgba(239,68,68,1)");
    zone(from, to, entry, tp, "rgba(34,197,94,1)");
    MF.line(series.price, entry, "#93c5fd", "entry", 0);
    MF.line(series.price, t.exit_price, "#e5e7eb", "exit", 2);
    MF.line(series.price, stop, "#f59e0b", "stop", 2);
    MF.line(series.price, tp, "#22c55e", "take profit", 2);
    MF.line(series.price, liq, "#f43f5e", "liquidation", 0);
    // the scale takes in entry, exit, stop and take-profit; the liquidation line when near
    const near = liq !== null && Math.abs(liq / entry - 1) <= 0.03 ? [liq] : [];
    levels = [entry, MF.num(t.exit_price), stop, tp, ...near].filter((v) => v !== null && !Number.isNaN(v));
    series.price.setMarkers(story.fills.map((f) => {
      const opening = Number(f.realized_pnl || 0) === 0 && f.reason !== "liquidation";
      return {
        time: bucket(f.ts_ms), position: f.side === "buy" ? "belowBar" : "aboveBar",
        color: f.side === "buy" ? "#22c55e" : "#ef4444", shape: f.side === "buy" ? "arrowUp" : "arrowDown",
        text: `${opening ? "entry" : "exit"} ${f.side} ${fmt(f.contracts)} @ ${px(f.price)}`,
      };
    }).sort((a, b) => a.time - b.time));
    chart.timeScale().fitContent();
    $("legend").innerHTML = `<span style="color:#93c5fd">entry ${px(entry)}</span> · <span class=warn>stop ${px(stop)}</span> · ` +
      `<span class=up>take profit ${px(tp)}</span> · <span class=liq>liquidation ${px(liq)}</span>`;
  }

  function kpis(story) {
    const t = story.trade;
    const items = [
      ["side", `<span class=${t.side === "long" ? "up" : "down"}>${esc(t.side)}</span> ${fmt(Math.abs(Number(t.contracts)))}`],
      ["entry", px(t.entry_price)], ["exit", px(t.exit_price)],
      [t.outcome === "open" ? "uPnL" : "net", signed(t.net_pnl)],
      ["R", t.r_multiple === null || t.r_multiple === undefined ? "–" : signed(t.r_multiple, 2) + "R"],
      ["leverage", `${fmt(t.leverage)}x ${esc(t.margin_mode || "")}`],
      ["fees", money(t.fees)], ["funding", signed(t.funding)],
      ["opened", when(t.open_ts_ms)], ["closed", t.close_ts_ms ? when(t.close_ts_ms) : "open"],
      ["exit reason", esc(t.exit_reason || "–")],
    ];
    $("kpis").innerHTML = items.map(([k, v]) => `<div class=kpi><div class=k>${k}</div><div class=v>${v}</div></div>`).join("");
    $("title").innerHTML = `${t.outcome === "open" ? "Open trade" : "Trade #" + esc(t.id)} · ${esc(t.symbol)} ` +
      `<span class="${t.outcome === "win" ? "up" : t.outcome === "loss" ? "down" : "dim"}">${esc(t.outcome)}</span>`;
  }

  function tables(story) {
    MF.table($("fills"), [
      { t: "time UTC", l: 1, f: (f) => when(f.ts_ms, true) },
      { t: "side", f: (f) => `<span class=${f.side === "buy" ? "up" : "down"}>${esc(f.side)}</span>` },
      { t: "contracts", f: (f) => fmt(f.contracts) }, { t: "price", f: (f) => px(f.price) },
      { t: "fee", f: (f) => fmt(f.fee, 4) }, { t: "realized", f: (f) => signed(f.realized_pnl) },
      { t: "reason", f: (f) => esc(f.reason) },
    ], story.fills, "no fills");
    MF.table($("funding"), [
      { t: "time UTC", l: 1, f: (f) => when(f.ts_ms) }, { t: "rate", f: (f) => fmt(Number(f.rate) * 100, 4) + "%" },
      { t: "mark", f: (f) => px(f.mark_price) }, { t: "amount", f: (f) => signed(f.amount, 4) },
    ], story.funding, "no funding paid or received");
    MF.table($("orders"), [
      { t: "time UTC", l: 1, f: (o) => when(o.ts_ms, true) }, { t: "id", f: (o) => esc(o.order_id) },
      { t: "event", f: (o) => esc(o.event) }, { t: "type", f: (o) => esc(o.order_type) },
      { t: "side", f: (o) => esc(o.side) }, { t: "contracts", f: (o) => fmt(o.contracts) },
      { t: "price", f: (o) => px(o.price) }, { t: "trigger", f: (o) => px(o.trigger_price) },
      { t: "reason", l: 1, f: (o) => esc(o.reason || o.guard) },
    ], story.orders, "no orders");
    $("tags").innerHTML = story.tags.length ? story.tags.map((g) => `<span class=tag>${esc(g)}</span>`).join("") : "<span class=dim>no tags</span>";
    $("notes").innerHTML = story.notes.map((n) => `<div><span class=dim>${when(n.written_ms)}</span> ${esc(n.text)}</div>`).join("");
    const editable = story.editable;
    $("note-form").style.display = $("tag-form").style.display = editable ? "" : "none";
    if (!editable) $("edit-result").textContent = "notes and tags go on the trade once it is closed";
  }

  async function load(withChart) {
    const r = await api(`/api/trades/${encodeURIComponent(ref)}`);
    if (!r.ok) { $("title").textContent = r.data.error; return; }
    kpis(r.data); tables(r.data);
    const t = r.data.trade;  // the trade's own account and venue (a desk may trade several)
    if (t.venue) $("meta").textContent = `${t.account} · ${t.venue}`;
    if (withChart) await drawChart(r.data);
  }
  async function edit(path, body) {
    const r = await api(`/api/trades/${encodeURIComponent(ref)}/${path}`, { method: "POST", body });
    $("edit-result").className = "result" + (r.ok ? "" : " err");
    $("edit-result").textContent = r.ok ? "saved" : r.data.error;
    if (r.ok) load(false);
    return r.ok;
  }
  $("note-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (await edit("note", { text: $("note-text").value })) $("note-text").value = "";
  });
  $("tag-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (await edit("tags", { tag: $("tag-text").value })) $("tag-text").value = "";
  });
  load(true);
})();
