// The report: equity and drawdown (interactive charts), R-multiple histogram, discipline.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const { api, fmt, money, signed, esc, short } = MF;
  MF.nav("report");

  function curve(points) {
    // one point per second, strictly increasing (several trades may close in one second)
    const out = [];
    for (const [ms, value] of points) {
      const time = Math.floor(Number(ms) / 1000);
      if (out.length && out[out.length - 1].time >= time) out[out.length - 1].value = Number(value);
      else out.push({ time, value: Number(value) });
    }
    return out;
  }

  function charts(rep) {
    const start = rep.first_open_ms === null ? [] : [[rep.first_open_ms, rep.summary.starting_balance]];
    const eq = curve(start.concat(rep.equity_curve));
    const ec = MF.chart($("equity"));
    const line = ec.addAreaSeries({ lineColor: "#3b82f6", topColor: "rgba(59,130,246,0.35)",
                                    bottomColor: "rgba(59,130,246,0.02)", lineWidth: 2 });
    line.setData(eq);
    MF.line(line, rep.summary.starting_balance, "#7d879c", "start", 2);
    let peak = -Infinity;
    const dd = eq.map((p) => { peak = Math.max(peak, p.value); return { time: p.time, value: p.value - peak }; });
    const dc = MF.chart($("drawdown"));
    const ds = dc.addAreaSeries({ lineColor: "#ef4444", topColor: "rgba(239,68,68,0.05)",
                                  bottomColor: "rgba(239,68,68,0.45)", lineWidth: 1, invertFilledArea: true });
    ds.setData(dd);
    ec.timeScale().fitContent(); dc.timeScale().fitContent();
  }

  function hist(rep) {
    const max = Math.max(1, ...rep.r_distribution.map(([, n]) => n));
    $("rhist").innerHTML = rep.r_distribution.map(([label, n]) => {
      const neg = label.startsWith("<") || label.startsWith("-");
      const h = Math.round((n / max) * 160);
      return `<div class=bar title="${esc(label)}: ${n} trade(s)"><span>${n}</span>` +
        `<div class=fill style="height:${h}px;background:${neg ? "#ef4444" : "#22c55e"}"></div>` +
        `<span class=lab>${esc(label)}</span></div>`;
    }).join("");
  }

  function discipline(rep) {
    const d = rep.discipline;
    const ids = (xs) => xs.length ? xs.map((i) => `<a href="/trades/${i}">#${i}</a>`).join(" ") : "<span class=up>none</span>";
    $("discipline").innerHTML = [
      [`risked over ${fmt(d.risk_pct)}%`, ids(d.over_risk)], ["without a stop", ids(d.without_stop)],
      ["liquidated", ids(d.liquidated)], ["after a loss lock", ids(d.after_loss_lock)],
      ["guard denials", d.guard_denials],
    ].map(([k, v]) => `<div>${k}</div><div>${v}</div>`).join("");
  }

  function groups(el, rows) {
    MF.table(el, [
      { t: "", l: 1, f: (g) => esc(short(g.key) || g.key) }, { t: "trades", f: (g) => g.trades },
      { t: "win rate", f: (g) => g.win_rate === null ? "–" : fmt(Number(g.win_rate) * 100, 1) + "%" },
      { t: "net", f: (g) => signed(g.net_pnl) },
      { t: "avg R", f: (g) => g.average_r === null ? "–" : signed(g.average_r, 2) },
    ], rows, "no closed trades yet");
  }

  async function load() {
    const venue = new URLSearchParams(location.search).get("venue");
    const r = await api("/api/report" + (venue ? `?venue=${encodeURIComponent(venue)}` : ""));
    if (!r.ok) { $("kpis").textContent = r.data.error; return; }
    const rep = r.data, s = rep.summary;
    $("meta").textContent = `${rep.account} · ${rep.currency}${rep.status ? " · " + rep.status : ""}`;
    if (rep.venues.length > 1) {  // several venues, one account each: links to the others
      $("meta").innerHTML += " · " + rep.venues.map((v) => v === rep.venue ? `<b>${esc(v)}</b>` :
        `<a href="/report?venue=${encodeURIComponent(v)}">${esc(v)}</a>`).join(" ");
    }
    const pct = (v) => (v === null ? "–" : fmt(Number(v) * 100, 1) + "%");
    const items = [
      ["trades", s.trades], ["win rate", pct(s.win_rate)], ["net P&L", signed(s.net_pnl)],
      ["expectancy", signed(s.expectancy)], ["average R", s.average_r === null ? "–" : signed(s.average_r, 2)],
      ["profit factor", fmt(s.profit_factor, 2)], ["max drawdown", `${money(s.max_drawdown)} <span class=dim style="font-size:12px">${s.max_drawdown_pct === null ? "" : fmt(s.max_drawdown_pct, 2) + "%"}</span>`],
      ["fees", money(s.fees)], ["funding", signed(s.funding)], ["equity", money(s.ending_equity)],
    ];
    $("kpis").innerHTML = items.map(([k, v]) => `<div class=kpi><div class=k>${k}</div><div class=v>${v}</div></div>`).join("");
    charts(rep); hist(rep); discipline(rep);
    groups($("by-symbol"), rep.by_symbol); groups($("by-tag"), rep.by_tag);
  }
  load();
})();
