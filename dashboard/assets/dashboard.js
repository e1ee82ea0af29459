// The pages' script: fills the tiles, charts and tables the server
// rendered, from the metrics API named in each element's `data-src` (the
// same API the CLI and notebooks call), with the browser's session cookie.
// Every element it fills ends with `data-state` = `ready`, `empty` or
// `error` (the API's reason shown), and each chart with `data-series` and
// `data-points`: what the browser tests read.
"use strict";

(function () {
  const tz = document.body.dataset.tz || "UTC";
  const cache = new Map();

  // The warehouse runs at most `warehouse.queries_per_key` (default 2)
  // queries per key at once and answers 429 `too_many_queries` beyond:
  // the page keeps two requests in flight, and waits out a 429's
  // Retry-After (a few times) before saying it failed.
  const IN_FLIGHT = 2;
  let running = 0;
  const waiting = [];
  const slot = () =>
    running < IN_FLIGHT ? (running++, Promise.resolve()) : new Promise((go) => waiting.push(go));
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";

  // GET `src`, or POST `post` (JSON) to it with the session's CSRF token;
  // `raw`: the response itself (for CSV)
  async function load(src, post, raw) {
    for (let attempt = 0; ; attempt++) {
      await slot();
      let r;
      try {
        const init = { credentials: "same-origin", headers: { Accept: raw ? "text/csv" : "application/json" } };
        if (post) {
          init.method = "POST";
          init.headers["Content-Type"] = "application/json";
          init.headers["X-CSRF-Token"] = csrf;
          init.body = JSON.stringify(post);
        }
        r = await fetch(src, init);
      } finally {
        release();
      }
      if (raw && r.ok) return r;
      const body = await r.json().catch(() => null);
      if (r.status === 429 && attempt < 5) {
        await sleep(1000 * Number(r.headers.get("Retry-After") || 1));
        continue;
      }
      if (!r.ok) {
        const e = body && body.error;
        throw new Error(e ? `${e.code}: ${e.message}` : `HTTP ${r.status}`);
      }
      return body;
    }
  }

  // one request per distinct URL, however many elements show it
  function fetchJson(src) {
    if (!cache.has(src)) cache.set(src, load(src));
    return cache.get(src);
  }

  // ---- numbers ------------------------------------------------------------

  const nf = (digits) =>
    new Intl.NumberFormat("en-GB", { maximumFractionDigits: digits, minimumFractionDigits: 0 });

  function format(v, unit, currency) {
    if (v === null || v === undefined || Number.isNaN(v)) return "—";
    switch (unit) {
      case "percent":
        return `${nf(2).format(v * 100)} %`;
      case "ms":
        return `${nf(0).format(v)} ms`;
      case "duration": {
        // milliseconds as seconds, minutes, or hours and minutes; the unit
        // chosen from the rounded value (never "60 s" or "1 h 60 min")
        if (Math.round(v / 100) < 600) return `${nf(1).format(v / 1e3)} s`;
        if (Math.round(v / 6e3) < 600) return `${nf(1).format(v / 60e3)} min`;
        const m = Math.round(v / 60e3);
        return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
      }
      case "hours":
        return `${nf(1).format(v)} h`;
      case "kbps":
        return `${nf(0).format(v)} kbps`;
      case "per_minute":
        return `${nf(3).format(v)} /min`;
      case "money":
        try {
          return new Intl.NumberFormat("en-GB", { style: "currency", currency }).format(v / 100);
        } catch (_) {
          return `${nf(2).format(v / 100)} ${currency}`;
        }
      case "money_micros":
        return format(v / 1e4, "money", currency);
      case "text":
        return String(v);
      default:
        return nf(2).format(v);
    }
  }

  // the change from `prev` to `cur`: points for rates, relative otherwise
  function change(cur, prev, unit, better) {
    if (cur === null || prev === null || cur === undefined || prev === undefined) return null;
    const diff = cur - prev;
    const text =
      unit === "percent"
        ? `${diff >= 0 ? "+" : "−"}${nf(Math.abs(diff) < 0.001 ? 3 : 2).format(Math.abs(diff) * 100)} pts`
        : prev === 0
          ? diff === 0
            ? "no change"
            : "new"
          : `${diff >= 0 ? "+" : "−"}${nf(1).format(Math.abs(diff / prev) * 100)} %`;
    let verdict = "same";
    if (diff !== 0) verdict = (diff > 0) === (better === "higher") ? "better" : "worse";
    return { text, verdict, arrow: diff > 0 ? "▲" : diff < 0 ? "▼" : "■" };
  }

  const col = (answer, name) => answer.columns.indexOf(name);

  // epoch seconds of a bucket label (`2026-03-01` or `2026-03-01T14:00:00Z`)
  const bucketTime = (b) => Date.parse(b.length === 10 ? `${b}T00:00:00Z` : b) / 1000;

  const showTime = (iso) => {
    try {
      return new Intl.DateTimeFormat("en-GB", {
        timeZone: tz,
        dateStyle: "medium",
        timeStyle: "medium",
      }).format(new Date(iso));
    } catch (_) {
      return iso;
    }
  };

  function fail(el, e) {
    el.dataset.state = "error";
    const p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = `Could not load: ${e.message}`;
    el.appendChild(p);
  }

  function cell(tag, text, cls) {
    const c = document.createElement(tag);
    c.textContent = text;
    if (cls) c.className = cls;
    return c;
  }

  // ---- tiles --------------------------------------------------------------

  // a tile's value over rows: per currency when money, else one number
  // (`data-reduce`: `last` bucket by default, `mean` or `sum` of buckets)
  function reduce(answer, rows, column, how) {
    const i = col(answer, column);
    const c = col(answer, "currency");
    const groups = new Map();
    for (const r of rows) {
      const key = c >= 0 ? r[c] : "";
      if (!groups.has(key)) groups.set(key, []);
      if (r[i] !== null) groups.get(key).push(r[i]);
    }
    const out = new Map();
    for (const [k, vs] of groups) {
      if (!vs.length) continue;
      const sum = vs.reduce((a, b) => a + b, 0);
      out.set(k, how === "sum" ? sum : how === "mean" ? sum / vs.length : vs[vs.length - 1]);
    }
    return out;
  }

  async function tile(el) {
    const { col: column, unit, better, reduce: how } = el.dataset;
    try {
      const a = await fetchJson(el.dataset.src);
      const cur = reduce(a, a.rows, column, how);
      const prev = a.compare ? reduce(a, a.compare.rows, column, how) : new Map();
      const value = el.querySelector(".value");
      const previous = el.querySelector(".previous");
      const changed = el.querySelector(".change");
      if (!cur.size) {
        value.textContent = "no data";
        el.dataset.state = "empty";
        return;
      }
      const lines = [...cur.keys()];
      value.textContent = lines.map((k) => format(cur.get(k), unit, k)).join(" · ");
      value.dataset.value = lines.length === 1 ? String(cur.get(lines[0])) : "";
      if (a.compare) {
        previous.textContent =
          "previous: " + lines.map((k) => format(prev.has(k) ? prev.get(k) : null, unit, k)).join(" · ");
        const ch = lines.length === 1 ? change(cur.get(lines[0]), prev.get(lines[0]) ?? null, unit, better) : null;
        if (ch) {
          changed.textContent = `${ch.arrow} ${ch.text} (${ch.verdict})`;
          changed.className = `change ${ch.verdict}`;
        }
      }
      el.dataset.state = "ready";
    } catch (e) {
      fail(el, e);
    }
  }

  // ---- charts -------------------------------------------------------------

  const PALETTE = ["#1f5fbf", "#c2410c", "#15803d", "#7e22ce"];

  async function chart(el) {
    const cols = el.dataset.cols.split(",");
    const unit = el.dataset.unit;
    const plot = el.querySelector(".plot");
    try {
      const a = await fetchJson(el.dataset.src);
      // the breakdown's rows are summed away: one series per column
      const xs = a.rows.map((r) => bucketTime(r[0]));
      if (!xs.length) {
        plot.textContent = "No data in this period.";
        el.dataset.state = "empty";
        el.dataset.series = "0";
        el.dataset.points = "0";
        return;
      }
      // one series per column and per key (currency, plan, …): the
      // answer's text columns after the bucket
      const keyCols = a.columns
        .map((c, i) => i)
        .filter((i) => i > 0 && a.rows.some((r) => typeof r[i] === "string"));
      const keyOf = (r) => keyCols.map((i) => r[i]).join(" ");
      const times = [...new Set(xs)].sort((p, q) => p - q);
      const keys = [...new Set(a.rows.map(keyOf))].sort();
      const at = new Map(times.map((t, i) => [t, i]));
      const data = [times];
      const series = [{ label: "time" }];
      let k = 0;
      for (const c of cols) {
        for (const key of keys) {
          const ys = times.map(() => null);
          for (const r of a.rows) if (keyOf(r) === key) ys[at.get(bucketTime(r[0]))] = r[col(a, c)];
          data.push(ys);
          const color = PALETTE[k++ % PALETTE.length];
          series.push({ label: key ? `${c} ${key}` : c, stroke: color, width: 2 });
        }
      }
      if (a.compare) {
        // the comparison shifted onto the current period's times
        const shift = bucketTime(a.params.from) - bucketTime(a.compare.params.from);
        let j = 0;
        for (const c of cols) {
          for (const key of keys) {
            const ys = times.map(() => null);
            for (const r of a.compare.rows) {
              const i = at.get(bucketTime(r[0]) + shift);
              if (keyOf(r) === key && i !== undefined) ys[i] = r[col(a, c)];
            }
            data.push(ys);
            series.push({
              label: `${key ? `${c} ${key}` : c} (${a.compare.kind})`,
              stroke: PALETTE[j++ % PALETTE.length],
              dash: [6, 4],
              width: 1.5,
            });
          }
        }
      }
      const opts = {
        width: Math.max(320, plot.clientWidth || 900),
        height: 280,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), tz),
        series,
        axes: [
          // a tick per bucket for months and weeks, labelled by the bucket
          el.dataset.bucket === "month" || el.dataset.bucket === "week"
            ? {
                splits: () => times,
                values: (u, ticks) =>
                  ticks.map((t) =>
                    new Intl.DateTimeFormat("en-GB", {
                      timeZone: "UTC",
                      month: "short",
                      year: el.dataset.bucket === "month" ? "numeric" : undefined,
                      day: el.dataset.bucket === "week" ? "numeric" : undefined,
                    }).format(new Date(t * 1e3)),
                  ),
              }
            : {},
          {
            size: 80,
            // money in major units (the rows hold minor units)
            values: (u, ticks) =>
              ticks.map((v) => (unit === "money" ? format(v / 100, "count") : format(v, unit, ""))),
          },
        ],
        scales: { x: { time: true } },
      };
      new uPlot(opts, data, plot);
      el.dataset.series = String(series.length - 1);
      el.dataset.points = String(times.length);
      el.dataset.state = "ready";
    } catch (e) {
      fail(el, e);
    }
  }

  // ---- tables -------------------------------------------------------------

  function volumeOf(a, row, volumeCols, volumeUnit) {
    if (!volumeCols.length) return null;
    let v = 0;
    for (const c of volumeCols) v += row[col(a, c)] || 0;
    return volumeUnit === "ms" ? v / 3.6e6 : v;
  }

  async function breakdown(el) {
    const d = el.dataset;
    const volumeCols = d.volume ? d.volume.split(",") : [];
    const floor = Number(d.minVolume || 0);
    const tbody = el.querySelector("tbody");
    try {
      const a = await fetchJson(d.src);
      const di = col(a, d.dimCol); // the answer names the contract's column
      const vi = col(a, d.value);
      const ii = col(a, "impact");
      const prev = new Map((a.compare ? a.compare.rows : []).map((r) => [r[di], r]));
      let rows = a.rows
        .map((r) => ({
          segment: r[di],
          volume: volumeOf(a, r, volumeCols, d.volumeUnit),
          value: r[vi],
          previous: prev.has(r[di]) ? prev.get(r[di])[vi] : null,
          impact: ii >= 0 ? r[ii] : null,
        }))
        .filter((r) => r.volume === null || r.volume >= floor);
      const key = d.sort === "impact" ? "impact" : d.volume ? "volume" : "value";
      rows.sort((x, y) => (y[key] ?? -Infinity) - (x[key] ?? -Infinity));
      for (const r of rows) {
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        th.scope = "row";
        const link = document.createElement("a");
        const url = new URL(d.drill, location.origin);
        if (r.segment !== null) url.searchParams.set(d.dim, r.segment);
        link.href = url.pathname + url.search;
        link.textContent = r.segment === null ? "(none)" : r.segment;
        th.appendChild(link);
        tr.appendChild(th);
        tr.appendChild(cell("td", r.volume === null ? "—" : format(r.volume, d.volumeUnit === "ms" ? "hours" : "count"), "num"));
        tr.appendChild(cell("td", format(r.value, d.unit), "num"));
        tr.appendChild(cell("td", format(r.previous, d.unit), "num"));
        const ch = change(r.value, r.previous, d.unit, d.better);
        tr.appendChild(cell("td", ch ? `${ch.arrow} ${ch.text}` : "—", ch ? `num ${ch.verdict}` : "num"));
        if (ii >= 0) tr.appendChild(cell("td", format(r.impact, d.unit), "num"));
        tr.dataset.segment = r.segment ?? "";
        tr.dataset.value = r.value ?? "";
        tbody.appendChild(tr);
      }
      settle(el, tbody, rows.length, 6);
    } catch (e) {
      failTable(el, e);
    }
  }

  // a filled table's end: its row count and state, a row saying it is empty
  function settle(el, tbody, rows, span) {
    el.dataset.rows = String(rows);
    el.dataset.state = rows ? "ready" : "empty";
    if (!rows) tbody.appendChild(emptyRow(span));
  }

  // a table that could not be filled: the reason beside it
  function failTable(el, e) {
    fail(el.parentElement, e);
    el.dataset.state = "error";
  }

  function emptyRow(span) {
    const tr = document.createElement("tr");
    const td = cell("td", "No rows in this period.");
    td.colSpan = span;
    tr.appendChild(td);
    return tr;
  }

  // a plain table of an answer's rows (`data-columns` picks and orders)
  async function rowsTable(el) {
    const d = el.dataset;
    const tbody = el.querySelector("tbody");
    try {
      const a = await fetchJson(d.src);
      const names = d.columns ? d.columns.split(",") : a.columns;
      const units = d.units ? d.units.split(",") : names.map(() => "auto");
      const idx = names.map((n) => col(a, n));
      let rows = a.rows.slice();
      if (d.sortCol) {
        const s = col(a, d.sortCol);
        rows.sort((x, y) => (y[s] ?? -Infinity) - (x[s] ?? -Infinity));
      }
      if (d.limit) rows = rows.slice(0, Number(d.limit));
      const thead = el.querySelector("thead");
      if (!thead.children.length) {
        const tr = document.createElement("tr");
        for (const n of names) {
          const th = cell("th", n);
          th.scope = "col";
          tr.appendChild(th);
        }
        thead.appendChild(tr);
      }
      for (const r of rows) {
        const tr = document.createElement("tr");
        idx.forEach((i, k) => {
          const v = r[i];
          const unit = units[k] === "auto" ? (typeof v === "number" ? "count" : "text") : units[k];
          const td = document.createElement("td");
          if (typeof v === "number") td.className = "num";
          if (names[k] === d.linkCol && v !== null) {
            const link = document.createElement("a");
            link.href = d.link.replace("{}", encodeURIComponent(v)).replace("%7B%7D", encodeURIComponent(v));
            link.textContent = String(v);
            td.appendChild(link);
          } else if (unit === "text" && typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v)) {
            td.textContent = showTime(v);
          } else {
            const currency = col(a, "currency") >= 0 ? r[col(a, "currency")] : "";
            td.textContent = v === null ? "—" : unit === "text" ? String(v) : format(v, unit, currency);
          }
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      }
      settle(el, tbody, rows.length, names.length);
      const more = document.querySelector("[data-more-of=rows]");
      if (more && a.more) more.hidden = false;
    } catch (e) {
      failTable(el, e);
    }
  }

  // ---- a view's timeline ----------------------------------------------------

  async function timeline(el) {
    try {
      const t = await fetchJson(el.dataset.src);
      const dl = el.querySelector("dl");
      for (const [k, v] of Object.entries(t.view)) {
        dl.appendChild(cell("dt", k));
        dl.appendChild(cell("dd", v === null ? "—" : String(v)));
      }
      const tbody = el.querySelector("tbody");
      for (const e of t.events) {
        const tr = document.createElement("tr");
        tr.dataset.event = e.event_type;
        tr.appendChild(cell("td", showTime(e.at)));
        tr.appendChild(cell("td", `${nf(3).format(e.offset_ms / 1000)} s`, "num"));
        tr.appendChild(cell("td", e.event_type));
        tr.appendChild(
          cell(
            "td",
            Object.entries(e.fields)
              .map(([k, v]) => `${k}=${v}`)
              .join(", "),
          ),
        );
        tbody.appendChild(tr);
      }
      el.dataset.rows = String(t.events.length);
      el.dataset.state = "ready";
    } catch (e) {
      fail(el, e);
    }
  }


  // ---- the month's MRR movements, as a waterfall per currency -------------

  async function waterfall(el) {
    try {
      const [m, start] = await Promise.all([fetchJson(el.dataset.src), fetchJson(el.dataset.start)]);
      const cur = col(m, "currency");
      const startAt = new Map(start.rows.map((r) => [r[col(start, "currency")], r[col(start, "mrr_minor")]]));
      if (!m.rows.length) {
        el.textContent = "No movements this month.";
        el.dataset.state = "empty";
        return;
      }
      for (const r of m.rows) {
        const currency = r[cur];
        const v = (c) => r[col(m, c)] || 0;
        const s0 = startAt.get(currency) || 0;
        const steps = [
          ["MRR at the start", s0, "total"],
          ["New", v("new"), "up"],
          ["Expansion", v("expansion"), "up"],
          ["Reactivation", v("reactivation"), "up"],
          ["Contraction", -v("contraction"), "down"],
          ["Churn", -v("churn"), "down"],
          ["MRR at the end", s0 + v("net_new"), "total"],
        ];
        let run = 0;
        let peak = 0;
        const bars = steps.map(([label, amount, kind]) => {
          const from = kind === "total" ? 0 : run;
          const to = kind === "total" ? amount : run + amount;
          run = kind === "total" ? amount : to;
          peak = Math.max(peak, from, to);
          return { label, amount, kind, lo: Math.min(from, to), hi: Math.max(from, to) };
        });
        const fig = document.createElement("figure");
        fig.className = "wf";
        fig.appendChild(cell("figcaption", currency));
        const table = document.createElement("table");
        for (const b of bars) {
          const tr = document.createElement("tr");
          tr.appendChild(cell("th", b.label));
          const td = document.createElement("td");
          td.className = "wf-track";
          const bar = document.createElement("span");
          bar.className = `wf-bar ${b.kind}`;
          bar.style.marginLeft = `${peak ? (100 * b.lo) / peak : 0}%`;
          bar.style.width = `${peak ? Math.max(0.5, (100 * (b.hi - b.lo)) / peak) : 0}%`;
          td.appendChild(bar);
          tr.appendChild(td);
          const sign = b.kind === "total" ? "" : b.amount >= 0 ? "+" : "−";
          tr.appendChild(cell("td", sign + format(Math.abs(b.amount), "money", currency), "num"));
          table.appendChild(tr);
        }
        fig.appendChild(table);
        el.appendChild(fig);
      }
      el.dataset.state = "ready";
    } catch (e) {
      fail(el, e);
    }
  }

  // ---- QoE against engagement: plays and play time by band ----------------

  async function bands(el) {
    const d = el.dataset;
    const order = d.order.split(",");
    const labels = d.labels.split("|");
    const tbody = el.querySelector("tbody");
    try {
      const a = await fetchJson(d.src);
      const [b, n, s, p] = [d.bandCol, "views", "started_views", "playing_ms"].map((c) => col(a, c));
      // the period's buckets summed per band
      const per = new Map(order.map((k) => [k, { views: 0, started: 0, playing: 0 }]));
      for (const r of a.rows) {
        const t = per.get(r[b]);
        if (!t) continue;
        t.views += r[n];
        t.started += r[s];
        t.playing += r[p];
      }
      const avg = (t) => (t.started ? t.playing / t.started : null);
      const most = Math.max(1, ...[...per.values()].map((t) => t.views));
      const longest = Math.max(1, ...[...per.values()].map((t) => avg(t) || 0));
      const bar = (v, max) => {
        const td = document.createElement("td");
        td.className = "band-track";
        const span = document.createElement("span");
        span.className = "band-bar";
        span.style.width = `${v ? Math.max(0.5, (100 * v) / max) : 0}%`;
        td.appendChild(span);
        return td;
      };
      let shown = 0;
      order.forEach((k, i) => {
        const t = per.get(k);
        const tr = document.createElement("tr");
        tr.dataset.band = k;
        const th = cell("th", labels[i] || k);
        th.scope = "row";
        tr.appendChild(th);
        tr.appendChild(cell("td", format(t.views, "count"), "num"));
        tr.appendChild(bar(t.views, most));
        const mean = avg(t);
        const c = cell("td", format(mean, "duration"), "num");
        if (mean !== null) c.dataset.value = String(mean);
        tr.appendChild(c);
        tr.appendChild(bar(mean, longest));
        tbody.appendChild(tr);
        if (t.views) shown++;
      });
      el.dataset.rows = String(shown);
      el.dataset.state = shown ? "ready" : "empty";
    } catch (e) {
      fail(el, e);
    }
  }

  // ---- cohorts: retention heat-map ----------------------------------------

  // one heat-map table from a cohort answer: a row per cohort, a cell per
  // offset; `size` and `kept` name the columns (subscribers or MRR), rows
  // of `currency` only when given
  function heatTable(el, a, { size, kept, unit, currency, absolute }) {
    const [b, o, n, k, rate, cur] = ["bucket", "offset", size, kept, "rate", "currency"].map((c) => col(a, c));
    const rows = currency ? a.rows.filter((r) => r[cur] === currency) : a.rows;
    const cohorts = [...new Set(rows.map((r) => r[b]))].sort();
    const maxOffset = Math.max(0, ...rows.map((r) => r[o]));
    const thead = el.querySelector("thead");
    const hr = document.createElement("tr");
    for (const h of ["Cohort", unit === "money" ? "MRR" : "Size", ...Array.from({ length: maxOffset + 1 }, (_, i) => `+${i}`)]) {
      const th = cell("th", h, h === "Cohort" ? "" : "num");
      th.scope = "col";
      hr.appendChild(th);
    }
    thead.appendChild(hr);
    const tbody = el.querySelector("tbody");
    for (const c of cohorts) {
      const mine = rows.filter((r) => r[b] === c);
      const tr = document.createElement("tr");
      const th = cell("th", c.slice(0, 7));
      th.scope = "row";
      tr.appendChild(th);
      tr.appendChild(cell("td", format(mine[0][n], unit, currency), "num"));
      for (let i = 0; i <= maxOffset; i++) {
        const r = mine.find((x) => x[o] === i);
        const td = cell("td", r ? (absolute ? format(r[k], unit, currency) : format(r[rate], "percent")) : "", "num heat");
        if (r) {
          // MRR can grow past its start (expansion): the shade stops at 100 %
          td.style.backgroundColor = `rgba(31, 95, 191, ${(0.08 + 0.8 * Math.min(1, r[rate])).toFixed(3)})`;
          if (r[rate] > 0.55) td.style.color = "#fff";
          td.dataset.rate = String(r[rate]);
        }
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
    settle(el, tbody, cohorts.length, 2);
  }

  async function heatmap(el) {
    try {
      const a = await fetchJson(el.dataset.src);
      heatTable(el, a, { size: "cohort_size", kept: "retained", unit: "count", absolute: el.dataset.show === "absolute" });
    } catch (e) {
      failTable(el, e);
    }
  }

  // MRR retention: a heat-map per currency
  async function heatmaps(el) {
    try {
      const a = await fetchJson(el.dataset.src);
      const currencies = [...new Set(a.rows.map((r) => r[col(a, "currency")]))].sort();
      for (const currency of currencies) {
        const table = document.createElement("table");
        table.className = "heatmap";
        table.dataset.currency = currency;
        table.appendChild(cell("caption", `${currency}: MRR still paid k months after the cohort's first paid month`));
        table.appendChild(document.createElement("thead"));
        table.appendChild(document.createElement("tbody"));
        el.appendChild(table);
        heatTable(table, a, {
          size: "cohort_mrr_minor",
          kept: "mrr_minor",
          unit: "money",
          currency,
          absolute: el.dataset.show === "absolute",
        });
      }
      el.dataset.tables = String(currencies.length);
      el.dataset.state = currencies.length ? "ready" : "empty";
      if (!currencies.length) el.textContent = "No paying cohort in these months.";
    } catch (e) {
      fail(el, e);
    }
  }

  // ---- the SQL console --------------------------------------------------------

  function sqlConsole(form) {
    const area = form.querySelector("textarea");
    const status = document.querySelector(".sql-status");
    const result = document.querySelector("table.sql-result");
    const show = (a, ms) => {
      result.querySelector("thead").replaceChildren();
      result.querySelector("tbody").replaceChildren();
      const hr = document.createElement("tr");
      for (const c of a.columns) hr.appendChild(cell("th", c));
      result.querySelector("thead").appendChild(hr);
      for (const r of a.rows) {
        const tr = document.createElement("tr");
        for (const v of r) tr.appendChild(cell("td", v === null ? "NULL" : typeof v === "object" ? JSON.stringify(v) : String(v), typeof v === "number" ? "num" : ""));
        result.querySelector("tbody").appendChild(tr);
      }
      status.textContent = `${a.rows.length} rows in ${ms} ms${a.truncated ? " (cut at the row limit: add LIMIT or aggregate)" : ""}`;
      status.className = "sql-status";
      result.dataset.rows = String(a.rows.length);
      result.dataset.state = "ready";
    };
    const run = async () => {
      status.textContent = "Running…";
      result.dataset.state = "";
      const t = performance.now();
      try {
        show(await load("/v1/sql", { sql: area.value }), Math.round(performance.now() - t));
      } catch (e) {
        status.textContent = e.message;
        status.className = "sql-status error";
        status.setAttribute("role", "alert");
        result.dataset.state = "error";
      }
    };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      run();
    });
    area.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        run();
      }
    });
    form.querySelector(".sql-csv").addEventListener("click", async () => {
      try {
        const r = await load("/v1/sql", { sql: area.value, format: "csv" }, true);
        const url = URL.createObjectURL(await r.blob());
        const a = document.createElement("a");
        a.href = url;
        a.download = "query.csv";
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      } catch (e) {
        status.textContent = e.message;
        status.className = "sql-status error";
      }
    });
    run();
  }

  async function schema(el) {
    try {
      const a = await load("/v1/sql", {
        sql: "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
      });
      const tables = new Map();
      for (const [t, c, ty] of a.rows) {
        if (!tables.has(t)) tables.set(t, []);
        tables.get(t).push([c, ty]);
      }
      for (const [t, cols] of tables) {
        const d = document.createElement("details");
        d.appendChild(cell("summary", `${t} (${cols.length})`));
        const ul = document.createElement("ul");
        for (const [c, ty] of cols) {
          const li = cell("li", c);
          li.appendChild(cell("span", ` ${ty}`, "hint"));
          ul.appendChild(li);
        }
        d.appendChild(ul);
        el.appendChild(d);
      }
      el.dataset.tables = String(tables.size);
      el.dataset.state = "ready";
    } catch (e) {
      fail(el, e);
    }
  }


  // ---- live: server-sent events ---------------------------------------------

  function liveView(el) {
    const status = el.querySelector(".live-status");
    const charts = [...el.querySelectorAll("figure.live-chart")].map((f) => ({ f, plot: null }));
    const source = new EventSource(el.dataset.stream);
    let updates = 0;
    source.addEventListener("pulse", (msg) => {
      const s = JSON.parse(msg.data);
      updates++;
      const full = s.minutes.length >= 2 ? s.minutes[s.minutes.length - 2] : s.minutes[0];
      const set = (k, v) => (el.querySelector(`[data-live=${k}]`).textContent = format(v, "count"));
      set("concurrent", s.concurrent);
      set("plays", full ? full.plays : 0);
      set("failures", full ? full.failures : 0);
      set("views", s.views);
      const xs = s.minutes.map((m) => m.t / 1000);
      for (const c of charts) {
        const cols = c.f.dataset.liveCols.split(",");
        const data = [xs, ...cols.map((k) => s.minutes.map((m) => m[k]))];
        if (!c.plot) {
          c.plot = new uPlot(
            {
              width: Math.max(320, c.f.querySelector(".plot").clientWidth || 900),
              height: 220,
              tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), tz),
              series: [{ label: "time" }, ...cols.map((k, i) => ({ label: k, stroke: PALETTE[i], width: 2 }))],
              scales: { x: { time: true } },
            },
            data,
            c.f.querySelector(".plot"),
          );
        } else {
          c.plot.setData(data);
        }
        c.f.dataset.series = String(cols.length);
        c.f.dataset.points = String(xs.length);
      }
      const tbody = el.querySelector("table.live-cdns tbody");
      tbody.replaceChildren();
      for (const c of s.cdns) {
        const tr = document.createElement("tr");
        tr.dataset.cdn = c.cdn;
        tr.dataset.plays = String(c.plays);
        const th = cell("th", c.cdn);
        th.scope = "row";
        tr.appendChild(th);
        tr.appendChild(cell("td", format(c.plays, "count"), "num"));
        tr.appendChild(cell("td", format(c.started, "count"), "num"));
        tr.appendChild(cell("td", format(c.startup_p50_ms, "ms"), "num"));
        tr.appendChild(cell("td", format(c.startup_p95_ms, "ms"), "num"));
        tr.appendChild(cell("td", format(c.rebuffering, "percent"), "num"));
        tbody.appendChild(tr);
      }
      if (!s.cdns.length) tbody.appendChild(emptyRow(6));
      status.textContent = `Updated ${showTime(new Date(s.now).toISOString())} · every 2 s from the stream`;
      el.dataset.updates = String(updates);
      el.dataset.state = "ready";
    });
    source.onerror = () => {
      status.textContent = "Reconnecting to the stream…";
    };
  }

  // ---- forms ----------------------------------------------------------------

  // blank fields stay out of the URL, so shared links hold only real state
  for (const form of document.querySelectorAll("form.controls")) {
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const params = new URLSearchParams();
      for (const [k, v] of new FormData(form)) if (String(v).trim() !== "") params.set(k, String(v).trim());
      const qs = params.toString();
      location.assign(form.getAttribute("action") + (qs ? `?${qs}` : ""));
    });
  }

  document.querySelectorAll(".tile[data-src]").forEach(tile);
  document.querySelectorAll("figure.chart[data-src]").forEach(chart);
  document.querySelectorAll("table.breakdown[data-src]").forEach(breakdown);
  document.querySelectorAll("table.rows[data-src]").forEach(rowsTable);
  document.querySelectorAll("section.timeline[data-src]").forEach(timeline);
  document.querySelectorAll("div.waterfall[data-src]").forEach(waterfall);
  document.querySelectorAll("table.heatmap[data-src]").forEach(heatmap);
  document.querySelectorAll("div.heatmaps[data-src]").forEach(heatmaps);
  document.querySelectorAll("table.bands[data-src]").forEach(bands);
  document.querySelectorAll("form.sql-form").forEach(sqlConsole);
  document.querySelectorAll("div.schema-list").forEach(schema);
  document.querySelectorAll("div.live[data-stream]").forEach(liveView);
})();
