// The dashboard in a real browser: Debian's chromium, driven by
// playwright-core. Run by tests/browser.rs against a server over a
// simulated lake: BASE (the server), KEY (an analyst key), APP_KEY (a key
// without the analyst role), OUT (where the screenshots go). Prints one
// JSON line per page checked; throws (exit 1) at the first failed check.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";

const { BASE, KEY, APP_KEY, INGEST_KEY, OUT } = process.env;
assert.ok(BASE && KEY && APP_KEY && INGEST_KEY && OUT, "BASE, KEY, APP_KEY, INGEST_KEY and OUT are set");
mkdirSync(OUT, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
const page = await context.newPage();

// every console error, page error and failed API request fails the run
const problems = [];
page.on("console", (m) => {
  if (m.type() === "error") problems.push(`console: ${m.text()}`);
});
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
page.on("response", (r) => {
  if (r.url().includes("/v1/") && r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
});
const expectedProblems = (pattern) => {
  const keep = problems.filter((p) => !pattern.test(p));
  problems.length = 0;
  problems.push(...keep);
};
const noProblems = (where) => assert.deepEqual(problems, [], `${where}: no console error or failed request`);

const report = (what, fields) => console.log(JSON.stringify({ page: what, ...fields }));

// the elements the page's script fills, once all have settled
async function settled(where) {
  await page.waitForFunction(
    () => [...document.querySelectorAll("[data-src]")].every((e) => e.dataset.state),
    null,
    { timeout: 60_000 },
  );
  const states = await page.$$eval("[data-src]", (els) => els.map((e) => [e.dataset.src, e.dataset.state]));
  const failed = states.filter(([, s]) => s === "error");
  assert.deepEqual(failed, [], `${where}: every element loaded`);
  noProblems(where);
  return states;
}

async function shot(name) {
  const path = `${OUT}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

// the API's answer for `src`, with the browser's own session cookie
async function api(src) {
  const r = await page.request.get(BASE + src);
  assert.equal(r.status(), 200, `${src}: ${await r.text()}`);
  return r.json();
}

function parseCsv(text) {
  // the API quotes fields holding commas or quotes (RFC 4180)
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n") { row.push(field); rows.push(row); row = []; field = ""; }
    else if (c !== "\r") field += c;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return rows;
}

async function csvOf(selector) {
  const href = await page.getAttribute(selector, "href");
  const r = await page.request.get(BASE + href);
  assert.equal(r.status(), 200, href);
  assert.match(r.headers()["content-type"], /text\/csv/);
  return { href, rows: parseCsv(await r.text()) };
}

const shots = {};

// ---- sign-in ----------------------------------------------------------------

const first = await page.goto(`${BASE}/overview?period=month`);
assert.match(page.url(), /\/signin\?next=/, "a page without a session sends the browser to sign in");
assert.equal(first.status(), 200);
shots.signin = await shot("signin");

await page.fill("#key", "sr_not-a-key");
const wrong = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
assert.equal(wrong[0].status(), 401, "a wrong key is refused");
assert.match(await page.textContent("[role=alert]"), /not known/);
await page.fill("#key", APP_KEY);
const notAnalyst = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
assert.equal(notAnalyst[0].status(), 403, "a key without the analyst role is refused");
assert.deepEqual(await context.cookies(), [], "and neither gets a cookie");
expectedProblems(/status of 40[13]/);

await page.fill("#key", KEY);
await Promise.all([page.waitForURL(/\/overview\?period=month$/), page.click("button[type=submit]")]);
const cookies = await context.cookies();
assert.equal(cookies.length, 1);
assert.equal(cookies[0].name, "sr_session");
assert.equal(cookies[0].httpOnly, true, "the session cookie is HttpOnly");
assert.equal(cookies[0].sameSite, "Strict", "and SameSite=Strict");
assert.ok(!JSON.stringify(cookies).includes(KEY), "the browser never holds the key");
report("signin", { cookie: { httpOnly: cookies[0].httpOnly, sameSite: cookies[0].sameSite } });

// ---- overview ----------------------------------------------------------------

// (the first load settles before the reload: a request the browser drops
// keeps its query running, and its key's place, until the query ends)
await settled("overview after sign-in");
const overviewResponse = await page.reload();
const csp = overviewResponse.headers()["content-security-policy"];
assert.match(csp, /script-src 'self'/, "pages forbid inline and foreign scripts");
await settled("overview");
shots.overview = await shot("overview");
const tiles = await page.$$eval(".tile", (els) =>
  els.map((e) => ({
    src: e.dataset.src,
    col: e.dataset.col,
    state: e.dataset.state,
    value: e.querySelector(".value").dataset.value,
    shown: e.querySelector(".value").textContent,
    change: e.querySelector(".change").textContent,
  })),
);
assert.equal(tiles.length, 13, "13 KPI tiles");
assert.ok(tiles.filter((t) => t.state === "ready").length >= 12, "with data");
for (const t of tiles.filter((t) => t.value)) {
  const a = await api(t.src);
  const i = a.columns.indexOf(t.col);
  assert.equal(Number(t.value), a.rows[a.rows.length - 1][i], `tile ${t.col} of ${t.src} is the API's number`);
}
assert.ok(tiles.some((t) => /(better|worse|same)/.test(t.change)), "changes are said in words");
report("overview", { tiles: tiles.length, shown: tiles.map((t) => `${t.col}=${t.shown}`) });

// the period changes the numbers: the previous month
const viewsTile = tiles.find((t) => t.col === "views");
await Promise.all([page.waitForNavigation(), page.click("a[rel=prev]")]);
await settled("overview, previous month");
const before = await page.$eval(".tile[data-col=views] .value", (e) => e.dataset.value);
const prevSrc = await page.$eval(".tile[data-col=views]", (e) => e.dataset.src);
assert.notEqual(prevSrc, viewsTile.src, "the period is in the requests");
assert.notEqual(before, viewsTile.value, "another month, other numbers");
const prevAnswer = await api(prevSrc);
assert.equal(Number(before), prevAnswer.rows[0][prevAnswer.columns.indexOf("views")]);
// April is running: its tiles ask for its data so far and compare with as
// many days before, not with the whole of March; MRR compares month ends
const to = viewsTile.src.match(/from=2026-04-01&to=(2026-04-\d\d)&/);
assert.ok(to, `a running month asks for its data so far: ${viewsTile.src}`);
const days = (Date.parse(to[1]) - Date.parse("2026-04-01")) / 86_400_000;
const later = await api(viewsTile.src);
assert.equal(later.compare.params.to, "2026-04-01", "compared with the days just before");
assert.equal((Date.parse("2026-04-01") - Date.parse(later.compare.params.from)) / 86_400_000, days, "as many days");
assert.match(tiles.find((t) => t.col === "mrr_minor").src, /from=2026-04-01&to=2026-05-01&/, "MRR: month ends");
assert.match(await page.textContent(".period"), /March 2026/);

// ---- quality of experience -----------------------------------------------------

await page.goto(`${BASE}/qoe?period=month&start=2026-03-01&metric=video_startup_time&by=device`);
await settled("qoe");
shots.qoe = await shot("qoe");
const chart = await page.$eval("figure.chart", (e) => ({
  src: e.dataset.src,
  series: Number(e.dataset.series),
  points: Number(e.dataset.points),
  canvases: e.querySelectorAll("canvas").length,
}));
const series = await api(chart.src);
assert.equal(chart.series, 6, "p50, p95, p99 and their comparison");
assert.equal(chart.points, series.rows.length, "one point per day the API answers");
assert.equal(chart.points, 31, "the 31 days of March");
assert.equal(chart.canvases, 1, "drawn by uPlot");
const table = async () =>
  page.$eval("table.breakdown", (t) => ({
    src: t.dataset.src,
    col: t.dataset.dimCol,
    rows: [...t.querySelectorAll("tbody tr[data-segment]")].map((r) => ({
      segment: r.dataset.segment,
      value: r.dataset.value,
      cells: [...r.children].map((c) => c.textContent),
    })),
  }));
const byDevice = await table();
const deviceAnswer = await api(byDevice.src);
assert.ok(byDevice.rows.length >= 2, "several devices");
assert.equal(byDevice.rows.length, deviceAnswer.rows.length, "every segment (no floor)");
for (const r of byDevice.rows) {
  const row = deviceAnswer.rows.find((x) => x[1] === r.segment);
  assert.equal(Number(r.value), row[deviceAnswer.columns.indexOf("p50_ms")], `p50 of ${r.segment}`);
}
// sorted by negative impact, largest first
const impacts = byDevice.rows.map((r) => deviceAnswer.rows.find((x) => x[1] === r.segment)[deviceAnswer.columns.indexOf("impact")]);
assert.deepEqual(impacts, [...impacts].sort((a, b) => b - a), "sorted by impact");
report("qoe", { series: chart.series, points: chart.points, segments: byDevice.rows.length });

// a breakdown changed in the form: the URL says it, the table follows
await page.selectOption("select[name=by]", "country");
await Promise.all([page.waitForNavigation(), page.click("form.controls button[type=submit]")]);
assert.match(page.url(), /by=country/);
assert.doesNotMatch(page.url(), /=&|=$/, "blank fields stay out of the URL");
await settled("qoe by country");
const byCountry = await table();
const countryAnswer = await api(byCountry.src);
assert.deepEqual(
  byCountry.rows.map((r) => r.segment).sort(),
  countryAnswer.rows.map((r) => r[1]).sort(),
  "the countries of the API's answer",
);

// a filter: only the first device; the numbers change and equal the API's
const device = byDevice.rows[0].segment;
await page.goto(`${BASE}/qoe?period=month&start=2026-03-01&metric=video_startup_time&by=country&device=${encodeURIComponent(device)}`);
await settled("qoe filtered");
const filtered = await table();
assert.match(filtered.src, new RegExp(`device=${encodeURIComponent(device)}`), "the filter reaches the API");
const filteredAnswer = await api(filtered.src);
for (const r of filtered.rows) {
  const row = filteredAnswer.rows.find((x) => x[1] === r.segment);
  assert.equal(Number(r.value), row[filteredAnswer.columns.indexOf("p50_ms")]);
}
assert.notDeepEqual(
  filtered.rows.map((r) => r.value),
  byCountry.rows.map((r) => r.value),
  "a filter changes the numbers",
);
shots.qoe_filtered = await shot("qoe-filtered");

// a floor: segments under it leave the table
const views = byDevice.rows.map((r) => deviceAnswer.rows.find((x) => x[1] === r.segment)[deviceAnswer.columns.indexOf("views")]);
const floor = [...views].sort((a, b) => a - b)[1];
await page.goto(`${BASE}/qoe?period=month&start=2026-03-01&metric=video_startup_time&by=device&min_volume=${floor}`);
await settled("qoe with a floor");
const floored = await table();
assert.equal(floored.rows.length, views.filter((v) => v >= floor).length, "the floor keeps the segments at or above it");

// CSV of the breakdown parses, with the API's columns
const csv = await csvOf("table.breakdown >> xpath=ancestor::section//a[contains(@class,'csv')]");
assert.deepEqual(csv.rows[0].slice(0, 3), ["period", "bucket", "device_type"], "CSV header");
assert.equal(csv.rows.length - 1, deviceAnswer.rows.length + deviceAnswer.compare.rows.length, "CSV rows: both periods");
const [download] = await Promise.all([page.waitForEvent("download"), page.click("figure.chart a.csv")]);
assert.ok((await download.path()) !== null, "the browser downloads the CSV");

// ---- drill-down: a segment → its views → a view's timeline --------------------

await page.goto(`${BASE}/qoe?period=month&start=2026-03-01&metric=video_startup_time&by=device`);
await settled("qoe again");
await Promise.all([page.waitForNavigation(), page.click("table.breakdown tbody tr:first-child th a")]);
assert.match(page.url(), new RegExp(`/views\\?.*device=${encodeURIComponent(device)}`), "the segment's views");
await settled("views");
shots.views = await shot("views");
const listSrc = await page.$eval("table.rows", (t) => t.dataset.src);
const list = await api(listSrc);
const shown = await page.$$eval("table.rows tbody tr", (rs) => rs.length);
assert.equal(shown, list.rows.length, "every view of the API's page");
assert.ok(list.rows.every((r) => r[list.columns.indexOf("device")] === device), `all of device ${device}: ${JSON.stringify([listSrc, list.columns, list.rows[0]])}`);
const viewsCsv = await csvOf("section a.csv");
assert.equal(viewsCsv.rows.length - 1, list.rows.length, "the views' CSV");
await Promise.all([page.waitForNavigation(), page.click("table.rows tbody tr:first-child a")]);
assert.match(page.url(), /\/views\/[^/?]+/);
await settled("timeline");
shots.timeline = await shot("timeline");
const events = await page.$$eval("table.events tbody tr", (rs) => rs.map((r) => r.dataset.event));
assert.equal(events[0], "play_requested", "a timeline starts with the play request");
assert.ok(events.length >= 2, "and goes on");
report("timeline", { events });

// ---- engagement ------------------------------------------------------------------

await page.goto(`${BASE}/engagement?period=month`);
await settled("engagement");
shots.engagement = await shot("engagement");
const charts = await page.$$eval("figure.chart", (fs) =>
  fs.map((f) => ({ src: f.dataset.src, series: Number(f.dataset.series), points: Number(f.dataset.points) })),
);
assert.equal(charts.length, 3);
assert.equal(charts[0].series, 3, "DAU, rolling 7 and 28 days");
assert.equal(charts[1].series, 2, "watch hours and the previous period");
assert.equal(charts[2].series, 2, "sessions and their users");
for (const c of charts) assert.equal(c.points, (await api(c.src)).rows.length, c.src);
const titles = await page.$$eval("table.rows tbody tr", (rs) => rs.length);
assert.ok(titles > 0 && titles <= 20, `top titles (${titles})`);
// sessions: the tile is the API's sum over the period
const sessionsTile = await page.$eval(".tile[data-col=sessions]", (e) => ({
  src: e.dataset.src,
  value: Number(e.querySelector(".value").dataset.value),
}));
const sessionsAnswer = await api(sessionsTile.src);
const sessionsSum = sessionsAnswer.rows.reduce((t, r) => t + r[sessionsAnswer.columns.indexOf("sessions")], 0);
assert.ok(sessionsSum > 0, "sessions in the period");
assert.equal(sessionsTile.value, sessionsSum, "the sessions tile");
// QoE against engagement: each band's plays and average play time are the API's
const bandTables = await page.$$eval("table.bands", (ts) =>
  ts.map((t) => ({
    src: t.dataset.src,
    col: t.dataset.bandCol,
    rows: [...t.querySelectorAll("tbody tr")].map((r) => ({
      band: r.dataset.band,
      plays: Number(r.cells[1].textContent.replace(/,/g, "")),
      avg: r.cells[3].dataset.value === undefined ? null : Number(r.cells[3].dataset.value),
    })),
  })),
);
assert.equal(bandTables.length, 2, "startup and rebuffering");
for (const t of bandTables) {
  const a = await api(t.src);
  const [b, n, s, p] = [t.col, "views", "started_views", "playing_ms"].map((c) => a.columns.indexOf(c));
  assert.ok(b > 0, `${t.src}: the band column`);
  let plays = 0;
  for (const row of t.rows) {
    const rs = a.rows.filter((r) => r[b] === row.band);
    const views = rs.reduce((x, r) => x + r[n], 0);
    const started = rs.reduce((x, r) => x + r[s], 0);
    const played = rs.reduce((x, r) => x + r[p], 0);
    assert.equal(row.plays, views, `${t.col} ${row.band}: plays`);
    if (started) assert.ok(Math.abs(row.avg - played / started) <= 1e-9 * (played / started), `${t.col} ${row.band}: average`);
    else assert.equal(row.avg, null, `${t.col} ${row.band}: no started play`);
    plays += views;
  }
  assert.ok(plays > 0, `${t.col}: plays shown`);
  assert.equal(plays, a.rows.reduce((x, r) => x + r[n], 0), `${t.col}: every band shown`);
}
report("engagement", { charts, titles, sessions: sessionsSum, bands: bandTables.map((t) => t.rows.length) });

// ---- a title's page, from the top titles ------------------------------------------

const topTitle = await page.$eval("table.rows tbody tr:first-child a", (a) => a.textContent);
await Promise.all([page.waitForNavigation(), page.click("table.rows tbody tr:first-child a")]);
assert.match(page.url(), new RegExp(`/titles/${topTitle}`));
await settled("title");
shots.title = await shot("title");
const titleTiles = await page.$$eval(".tile", (els) =>
  els.map((e) => ({ src: e.dataset.src, col: e.dataset.col, value: e.querySelector(".value").dataset.value })),
);
for (const t of titleTiles) {
  assert.match(t.src, new RegExp(`title=${topTitle}`), "every request filters by the title");
  if (!t.value) continue;
  const a = await api(t.src);
  assert.equal(Number(t.value), a.rows[a.rows.length - 1][a.columns.indexOf(t.col)], `title tile ${t.col}`);
}
const starts = titleTiles.find((t) => t.col === "starts");
report("title", { title: topTitle, tiles: titleTiles.length, starts: starts.value });

// ---- revenue ----------------------------------------------------------------------

await page.goto(`${BASE}/revenue?period=month&start=2026-04-01`);
await settled("revenue");
shots.revenue = await shot("revenue");
const mrrChart = await page.$eval("figure.chart", (f) => ({ src: f.dataset.src, series: Number(f.dataset.series), points: Number(f.dataset.points) }));
const mrr = await api(mrrChart.src);
const currencies = new Set(mrr.rows.map((r) => r[mrr.columns.indexOf("currency")]));
assert.ok(currencies.size >= 2, "several currencies");
assert.equal(mrrChart.series, currencies.size, "one MRR series per currency");
assert.equal(mrrChart.points, new Set(mrr.rows.map((r) => r[0])).size, "one point per month");
const falls = await page.$$eval("figure.wf", (fs) => fs.map((f) => f.querySelectorAll("tr").length));
assert.equal(falls.length, currencies.size, "a waterfall per currency");
assert.ok(falls.every((n) => n === 7), "start, five movements, end");
// the waterfall's end is the month's MRR
const endText = await page.$$eval("figure.wf", (fs) => fs.map((f) => [f.querySelector("figcaption").textContent, f.querySelector("tr:last-child td.num").textContent]));
const april = mrr.rows.filter((r) => r[0] === "2026-04-01");
for (const [currency, text] of endText) {
  const row = april.find((r) => r[mrr.columns.indexOf("currency")] === currency);
  const shownMinor = Math.round(Number(text.replace(/[^0-9.]/g, "")) * 100);
  assert.equal(shownMinor, row[mrr.columns.indexOf("mrr_minor")], `MRR at the end of April in ${currency}`);
}
report("revenue", { currencies: [...currencies], waterfalls: falls.length });

// ---- cohorts: percent, then subscribers -------------------------------------------

await page.goto(`${BASE}/cohorts?period=month&start=2026-04-01`);
await settled("cohorts");
shots.cohorts = await shot("cohorts");
const heat = await page.$eval("table.heatmap", (t) => ({ src: t.dataset.src, rows: Number(t.dataset.rows), first: t.querySelector("tbody tr td.heat").textContent }));
const cohorts = await api(heat.src);
assert.equal(heat.rows, new Set(cohorts.rows.map((r) => r[0])).size, "a row per cohort");
assert.match(heat.first, /%$/, "percent by default");
await page.selectOption("select[name=show]", "absolute");
await Promise.all([page.waitForNavigation(), page.click("form.controls button[type=submit]")]);
await settled("cohorts absolute");
const firstAbs = await page.$eval("table.heatmap tbody tr td.heat", (c) => c.textContent);
const earliest = cohorts.rows
  .filter((r) => r[cohorts.columns.indexOf("offset")] === 0)
  .sort((x, y) => (x[0] < y[0] ? -1 : 1))[0];
assert.equal(Number(firstAbs.replace(/,/g, "")), earliest[cohorts.columns.indexOf("retained")], "subscribers, as the API counts them");
// MRR retention: a heat-map per currency, each cell the API's rate
await page.selectOption("select[name=show]", "percent");
await Promise.all([page.waitForNavigation(), page.click("form.controls button[type=submit]")]);
await settled("cohorts MRR");
const mrrHeat = await page.$eval("div.heatmaps", (d) => ({
  src: d.dataset.src,
  tables: [...d.querySelectorAll("table.heatmap")].map((t) => ({
    currency: t.dataset.currency,
    cells: [...t.querySelectorAll("tbody tr")].map((r) => [...r.querySelectorAll("td.heat")].map((c) => c.dataset.rate ?? null)),
    cohorts: [...t.querySelectorAll("tbody th")].map((h) => h.textContent),
  })),
}));
const mrrAnswer = await api(mrrHeat.src);
const [mb, mc, mo, mr] = ["bucket", "currency", "offset", "rate"].map((c) => mrrAnswer.columns.indexOf(c));
assert.deepEqual(
  mrrHeat.tables.map((t) => t.currency),
  [...new Set(mrrAnswer.rows.map((r) => r[mc]))].sort(),
  "a heat-map per currency",
);
let mrrCells = 0;
for (const t of mrrHeat.tables) {
  t.cohorts.forEach((c, i) => {
    for (const r of mrrAnswer.rows.filter((x) => x[mc] === t.currency && x[mb].slice(0, 7) === c)) {
      assert.equal(Number(t.cells[i][r[mo]]), r[mr], `${t.currency} ${c} +${r[mo]}`);
      mrrCells++;
    }
  });
}
assert.ok(mrrCells > 0, "MRR cells shown");
report("cohorts", { cohorts: heat.rows, mrr_tables: mrrHeat.tables.length, mrr_cells: mrrCells });

// ---- SQL ----------------------------------------------------------------------------

await page.goto(`${BASE}/sql`);
await page.waitForFunction(() => document.querySelector("table.sql-result").dataset.state === "ready");
await page.waitForFunction(() => document.querySelector(".schema-list").dataset.state === "ready");
const tables = await page.$eval(".schema-list", (e) => Number(e.dataset.tables));
assert.ok(tables >= 5, `the schema lists the tables (${tables})`);
await page.fill("#sql", "SELECT event_type, count(*) AS n FROM player GROUP BY event_type ORDER BY event_type");
await page.press("#sql", "Control+Enter");
await page.waitForFunction(() => document.querySelector("table.sql-result").dataset.state === "ready" && document.querySelector(".sql-status").textContent.includes("rows"));
const sqlRows = await page.$$eval("table.sql-result tbody tr", (rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));
const direct = await page.request.post(`${BASE}/v1/sql`, {
  data: { sql: "SELECT event_type, count(*) AS n FROM player GROUP BY event_type ORDER BY event_type" },
  headers: { Authorization: `Bearer ${KEY}` },
});
const directRows = (await direct.json()).rows.map((r) => r.map(String));
assert.deepEqual(sqlRows, directRows, "the console shows the API's rows");
shots.sql = await shot("sql");
const [sqlDownload] = await Promise.all([page.waitForEvent("download"), page.click("button.sql-csv")]);
const sqlCsv = parseCsv(await (await import("node:fs/promises")).readFile(await sqlDownload.path(), "utf8"));
assert.deepEqual(sqlCsv[0], ["event_type", "n"]);
assert.equal(sqlCsv.length - 1, directRows.length, "the CSV download");
await page.fill("#sql", "SELECT nope FROM player");
await page.click(".sql-form button[type=submit]");
await page.waitForFunction(() => document.querySelector("table.sql-result").dataset.state === "error");
const reason = await page.textContent(".sql-status");
assert.match(reason, /nope/, `the error says why: ${reason}`);
expectedProblems(/400/);
await page.fill("#sql", "DROP TABLE player");
await page.click(".sql-form button[type=submit]");
await page.waitForFunction(() => document.querySelector("table.sql-result").dataset.state === "error");
assert.match(await page.textContent(".sql-status"), /read-only|not allowed|only/i);
expectedProblems(/400/);
report("sql", { tables, rows: sqlRows.length });

// ---- live: events posted to the collector show within seconds ------------------

await page.goto(`${BASE}/live`);
await page.waitForFunction(() => document.querySelector("div.live").dataset.state === "ready", null, { timeout: 15_000 });
const liveBefore = await page.$eval("div.live", (e) => Number(e.dataset.updates));
const view = `live-probe-${Date.now()}`;
const now = new Date();
const at = (ms) => new Date(now.getTime() + ms).toISOString();
const posted = Date.now();
const post = await page.request.post(`${BASE}/v1/events`, {
  headers: { Authorization: `Bearer ${INGEST_KEY}` },
  data: [
    {
      event_type: "play_requested", schema_version: 1, occurred_at: at(-3000), user_id: "u-live", device_id: "d-live",
      view_id: view, title_id: "t-live", device_type: "tv", os: "tizen", player_name: "shaka", player_version: "4.9",
      app_version: "9.9.9", cdn: "live-probe-cdn", country: "FR", isp: "Orange", network_type: "wifi",
    },
    { event_type: "first_frame", schema_version: 1, occurred_at: at(-1800), user_id: "u-live", device_id: "d-live", view_id: view, title_id: "t-live" },
  ],
});
assert.equal(post.status(), 200, await post.text());
await page.waitForSelector("table.live-cdns tr[data-cdn=live-probe-cdn]", { timeout: 30_000 });
const shownAfter = Date.now() - posted;
const probe = await page.$eval("table.live-cdns tr[data-cdn=live-probe-cdn]", (r) => [...r.children].map((c) => c.textContent));
assert.deepEqual(probe.slice(0, 4), ["live-probe-cdn", "1", "1", "1,200 ms"], "the posted view: one play, started in 1.2 s");
const liveAfter = await page.$eval("div.live", (e) => Number(e.dataset.updates));
assert.ok(liveAfter > liveBefore, "the page updated itself");
const liveCharts = await page.$$eval("figure.live-chart", (fs) => fs.map((f) => [Number(f.dataset.series), Number(f.dataset.points)]));
assert.deepEqual(liveCharts, [[1, 15], [2, 15]], "concurrency; plays and failures; 15 minutes each");
shots.live = await shot("live");
report("live", { visible_after_ms: shownAfter, updates: liveAfter });

// ---- keyboard: the skip link comes first ----------------------------------------
await page.goto(`${BASE}/overview`);
await settled("overview, for the keyboard");
await page.keyboard.press("Tab");
assert.equal(await page.evaluate(() => document.activeElement.className), "skip");

// ---- sign-out ----------------------------------------------------------------------

const old = (await context.cookies())[0].value;
await Promise.all([page.waitForURL(/\/signin$/), page.click("form.signout button")]);
assert.deepEqual(await context.cookies(), [], "sign-out removes the cookie");
await page.goto(`${BASE}/overview`);
assert.match(page.url(), /\/signin\?next=/, "and pages ask to sign in again");
const replay = await page.request.get(`${BASE}/v1/metrics`, { headers: { Cookie: `sr_session=${old}` } });
assert.equal(replay.status(), 401, "the old cookie no longer opens anything");
expectedProblems(/401/);
noProblems("sign-out");

await browser.close();
console.log(JSON.stringify({ screenshots: shots }));
