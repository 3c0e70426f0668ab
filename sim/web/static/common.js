// microfut web: helpers shared by the pages (fetch, number formatting, charts). Plain JS.
"use strict";
const MF = (() => {
  async function api(path, opts = {}) {
    const init = { method: opts.method || "GET", headers: {} };
    if (opts.body !== undefined) {
      init.body = JSON.stringify(opts.body);
      init.headers["content-type"] = "application/json";
    }
    const r = await fetch(path, init);
    let data = null;
    try { data = await r.json(); } catch (e) { data = { error: r.statusText }; }
    return { ok: r.ok, status: r.status, data };
  }
  const num = (v) => (v === null || v === undefined || v === "" ? null : Number(v));
  function fmt(v, places, min = 0) {
    const n = num(v);
    if (n === null || Number.isNaN(n)) return "–";
    const p = places === undefined ? (Math.abs(n) >= 100 ? 2 : Math.abs(n) >= 1 ? 4 : 6) : places;
    return n.toLocaleString("en-US", { minimumFractionDigits: Math.min(min, p), maximumFractionDigits: p });
  }
  const money = (v) => fmt(v, 2, 2);  // cash: always two decimals
  const px = (v) => fmt(v, Math.abs(num(v) ?? 0) >= 10 ? 2 : 6, 2);  // prices: cents or finer
  function signed(v, places = 2) {
    const n = num(v);
    if (n === null) return "<span class=dim>–</span>";
    const cls = n > 0 ? "up" : n < 0 ? "down" : "dim";
    return `<span class=${cls}>${n > 0 ? "+" : ""}${fmt(n, places, places)}</span>`;
  }
  function when(ms, seconds = false) {
    if (ms === null || ms === undefined) return "–";
    const s = new Date(Number(ms)).toISOString().replace("T", " ");
    return s.slice(0, seconds ? 19 : 16);
  }
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const short = (sym) => String(sym || "").split("/")[0];
  function table(el, columns, rows, empty) {
    if (!rows.length) { el.innerHTML = `<div class=empty>${esc(empty)}</div>`; return; }
    const head = columns.map((c) => `<th class="${c.l ? "l" : ""}">${esc(c.t)}</th>`).join("");
    const body = rows.map((r) => "<tr>" + columns.map((c) =>
      `<td class="${c.l ? "l" : ""}">${c.f(r)}</td>`).join("") + "</tr>").join("");
    el.innerHTML = `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  }
  const THEME = {
    layout: { background: { type: "solid", color: "#121722" }, textColor: "#9aa4b8",
              fontFamily: "DejaVu Sans Mono, Menlo, monospace" },
    grid: { vertLines: { color: "#1a2131" }, horzLines: { color: "#1a2131" } },
    rightPriceScale: { borderColor: "#232b3d" },
    timeScale: { borderColor: "#232b3d", timeVisible: true, secondsVisible: false },
    crosshair: { mode: 0 },
  };
  function chart(el, extra = {}) {
    const c = LightweightCharts.createChart(el, Object.assign({ autoSize: true }, THEME, extra));
    return c;
  }
  // prices (price lines) the candle scale must include, set by the page
  function candles(c, extra = () => []) {
    const s = c.addCandlestickSeries({
      autoscaleInfoProvider: (base) => {
        const r = base();
        if (!r) return r;
        for (const p of extra()) {
          r.priceRange.minValue = Math.min(r.priceRange.minValue, p);
          r.priceRange.maxValue = Math.max(r.priceRange.maxValue, p);
        }
        return r;
      },
      upColor: "#22c55e", downColor: "#ef4444",
      borderUpColor: "#22c55e", borderDownColor: "#ef4444", wickUpColor: "#22c55e",
      wickDownColor: "#ef4444" });
    const v = c.addHistogramSeries({ priceFormat: { type: "volume" }, priceScaleId: "vol",
      lastValueVisible: false, priceLineVisible: false });
    c.priceScale("vol").applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    return { price: s, volume: v };
  }
  function volumeBar(b) {
    return { time: b.time, value: b.volume,
             color: b.close >= b.open ? "rgba(34,197,94,0.35)" : "rgba(239,68,68,0.35)" };
  }
  function setBars(series, bars) {
    series.price.setData(bars.map(({ time, open, high, low, close }) => ({ time, open, high, low, close })));
    series.volume.setData(bars.map(volumeBar));
  }
  function line(series, price, color, title, style = 2) {
    if (price === null || price === undefined) return null;
    return series.createPriceLine({ price: Number(price), color, lineWidth: 1, lineStyle: style,
                                    axisLabelVisible: true, title });
  }
  function nav(active) {
    document.querySelectorAll("nav a").forEach((a) => {
      if (a.dataset.page === active) a.classList.add("on");
    });
  }
  return { api, num, fmt, money, px, signed, when, esc, short, table, chart, candles, setBars,
           volumeBar, line, nav };
})();
