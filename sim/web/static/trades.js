// The journal: closed trades (and open ones) with filters by symbol, tag, date and outcome.
"use strict";
(() => {
  const { api, fmt, px, signed, when, esc, short } = MF;
  MF.nav("trades");
  const form = document.getElementById("filters");
  const params = new URLSearchParams(location.search);
  for (const [k, v] of params) if (form.elements[k]) form.elements[k].value = v;

  async function load() {
    const acct = await api("/api/account");
    const multi = acct.ok && acct.data.venues.length > 1;
    if (acct.ok) {
      document.getElementById("meta").textContent = acct.data.venues.map((v) => `${v.account} · ${v.venue}`).join("  |  ");
      const sel = document.getElementById("f-symbol");
      if (sel.options.length === 1) {
        for (const s of acct.data.symbols) sel.add(new Option(short(s), short(s)));
        sel.value = params.get("symbol") || "";
      }
    }
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
    const r = await api("/api/trades?" + q.toString());
    const el = document.getElementById("trades");
    if (!r.ok) { el.innerHTML = `<div class="empty err">${esc(r.data.error)}</div>`; return; }
    MF.table(el, [
      ...(multi ? [{ t: "venue", l: 1, f: (t) => esc(t.venue) }] : []),
      { t: "#", l: 1, f: (t) => `<a href="/trades/${esc(t.id)}">${t.outcome === "open" ? "open" : "#" + esc(t.id)}</a>` },
      { t: "symbol", l: 1, f: (t) => esc(short(t.symbol)) },
      { t: "side", l: 1, f: (t) => `<span class=${t.side === "long" ? "up" : "down"}>${esc(t.side)}</span>` },
      { t: "opened UTC", f: (t) => when(t.open_ts_ms) }, { t: "closed UTC", f: (t) => when(t.close_ts_ms) },
      { t: "contracts", f: (t) => fmt(Math.abs(Number(t.contracts))) },
      { t: "entry", f: (t) => px(t.entry_price) }, { t: "exit", f: (t) => px(t.exit_price) },
      { t: "lev", f: (t) => fmt(t.leverage) + "x" },
      { t: "net", f: (t) => signed(t.net_pnl) + (t.outcome === "open" ? " <span class=dim>(uPnL)</span>" : "") },
      { t: "R", f: (t) => t.r_multiple === null ? "–" : signed(t.r_multiple, 2) + "R" },
      { t: "outcome", f: (t) => `<span class="${t.outcome === "win" ? "up" : t.outcome === "loss" ? "down" : "dim"}">${t.outcome}</span>` },
      { t: "exit reason", f: (t) => esc(t.exit_reason) },
      { t: "tags", l: 1, f: (t) => (t.tags || []).map((g) => `<span class=tag>${esc(g)}</span>`).join("") },
    ], r.data, "no trades match");
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
    history.replaceState(null, "", "/trades" + (q.toString() ? "?" + q : ""));
    load();
  });
  load();
})();
