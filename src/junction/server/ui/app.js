// junction dashboard: one ES module, no build step, nothing fetched from
// elsewhere. Every figure comes from the admin API behind the session cookie
// (/ui/api/... answers what /admin/... answers); charts are SVG the gateway
// draws (/ui/chart/...). Text from the API is only ever set as text.

const RANGES = {
  "24h": { seconds: 86400, group: "hour", label: "Last 24 hours" },
  "7d": { seconds: 7 * 86400, group: "hour", label: "Last 7 days" },
  "30d": { seconds: 30 * 86400, group: "day", label: "Last 30 days" },
  "90d": { seconds: 90 * 86400, group: "day", label: "Last 90 days" },
};
const DIMENSIONS = ["model", "provider", "key", "team"];
const PAGES = { overview, providers, routing, requests, keys };
const PAGE_SIZE = 50;

let session = null;
let refreshTimer = null;
const cursors = { key: "", stack: [] };

// ----- DOM helpers -----------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "text") el.textContent = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function add(el, ...children) {
  return append(el, children);
}

function table(caption, head, rows, numeric = [], empty = "Nothing in this range.") {
  return h(
    "table",
    {},
    h("caption", { text: caption }),
    h("thead", {}, h("tr", {}, head.map((c, i) => h("th", { scope: "col", class: numeric.includes(i) ? "num" : null, text: c })))),
    h(
      "tbody",
      {},
      rows.length
        ? rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { class: numeric.includes(i) ? "num" : null }, c))))
        : h("tr", {}, h("td", { colspan: head.length, text: empty })),
    ),
  );
}

function tile(label, value, id) {
  return h("div", { class: "tile", "data-tile": id }, h("div", { class: "label", text: label }), h("div", { class: "value", text: value }));
}

function field(label, input) {
  return h("label", {}, label, input);
}

function badge(text, tone) {
  return h("span", { class: `badge ${tone}`, text });
}

function announce(text) {
  document.getElementById("announce").textContent = text;
}

// ----- formatting ------------------------------------------------------------

const num = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US", { maximumFractionDigits: 2 }));
const usd = (n) => (n === null || n === undefined ? "–" : "$" + Number(n).toLocaleString("en-US", { maximumSignificantDigits: 6, minimumFractionDigits: 2 }));
const ms = (n) => (n === null || n === undefined ? "–" : `${Number(n).toLocaleString("en-US", { maximumFractionDigits: 0 })} ms`);
const pct = (n) => (n === null || n === undefined ? "–" : `${(100 * n).toLocaleString("en-US", { maximumFractionDigits: 1 })}%`);
const when = (iso) => (iso ? iso.replace("T", " ").replace(/(\.\d+)?(Z|\+00:00)$/, " UTC") : "–");

// ----- the admin API -----------------------------------------------------------

class ApiError extends Error {
  constructor(message, status, param) {
    super(message);
    this.status = status;
    this.param = param;
  }
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { "x-junction-ui": "1" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`/ui/api${path}`, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  if (res.status === 401) {
    showLogin("Your session has ended; sign in again.");
    throw new ApiError("signed out", 401);
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(err.message || `${res.status} ${res.statusText}`, res.status, err.param);
  }
  return data;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

function range(params) {
  const r = RANGES[params.get("range")] || RANGES["24h"];
  const end = Math.ceil(Date.now() / 3600000) * 3600;
  return { ...r, start: end - r.seconds, end, name: RANGES[params.get("range")] ? params.get("range") : "24h" };
}

// ----- login -----------------------------------------------------------------

function showLogin(message) {
  stopRefresh();
  session = null;
  document.getElementById("top").hidden = true;
  const main = document.getElementById("main");
  const error = h("div", { class: "alert", role: "alert", id: "login-error", text: message || "" });
  const input = h("input", { type: "password", id: "master-key", name: "key", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    { class: "login", id: "login", onsubmit: (e) => login(e, input, error) },
    h("h1", { text: "junction dashboard" }),
    h("p", { class: "note", text: "Sign in with the gateway's master key. It is sent once; the browser then keeps only a session cookie that scripts cannot read." }),
    error,
    h("label", { for: "master-key" }, "Master key", input),
    h("button", { type: "submit", text: "Sign in" }),
  );
  main.replaceChildren(form);
  input.focus();
}

async function login(event, input, error) {
  event.preventDefault();
  const res = await fetch("/ui/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-junction-ui": "1" },
    body: JSON.stringify({ key: input.value }),
  });
  input.value = "";
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    error.textContent = data && data.error ? data.error.message : "Sign-in failed.";
    input.focus();
    return;
  }
  await start();
}

async function logout() {
  await fetch("/ui/logout", { method: "POST", credentials: "same-origin", headers: { "x-junction-ui": "1" } });
  showLogin("Signed out.");
}

// ----- routing between pages -----------------------------------------------------

function parseHash() {
  const raw = location.hash.startsWith("#/") ? location.hash.slice(2) : "overview";
  const [path, q] = raw.split("?");
  const parts = path.split("/").map(decodeURIComponent);
  return { page: parts[0] || "overview", rest: parts.slice(1), params: new URLSearchParams(q || "") };
}

function go(page, params = {}) {
  location.hash = `#/${page}${query(params)}`;
}

function stopRefresh() {
  if (refreshTimer !== null) clearInterval(refreshTimer);
  refreshTimer = null;
}

async function render() {
  if (!session) return;
  if (location.hash && !location.hash.startsWith("#/")) return; // the skip link
  stopRefresh();
  const { page, rest, params } = parseHash();
  const draw = PAGES[page] || overview;
  for (const a of document.querySelectorAll(".top nav a")) {
    if (a.dataset.page === (PAGES[page] ? page : "overview")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const main = document.getElementById("main");
  main.removeAttribute("data-rendered");
  const alert = h("div", { class: "alert", role: "alert", id: "page-error" });
  const body = h("div", { id: "page", "aria-busy": "true" });
  main.replaceChildren(alert, body);
  try {
    await draw(body, params, rest);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    alert.textContent = err.message;
  } finally {
    body.setAttribute("aria-busy", "false");
    main.dataset.rendered = rest.length ? `${page}-detail` : page;
  }
  const heading = main.querySelector("h1");
  if (heading) {
    document.title = `${heading.textContent} · junction`;
    announce(`${heading.textContent} loaded`);
  }
}

function rangeControls(params, page, extra = []) {
  const r = range(params);
  const select = h(
    "select",
    { id: "range", onchange: () => go(page, { ...Object.fromEntries(params), range: select.value }) },
    Object.entries(RANGES).map(([k, v]) => h("option", { value: k, selected: k === r.name, text: v.label })),
  );
  return h("div", { class: "controls" }, field("Range", select), extra);
}

function logOff() {
  return h("p", { class: "notice", role: "note", text: "The request log is off on this gateway (stores.database_url), so there is nothing to chart." });
}

// ----- Overview ------------------------------------------------------------------

async function overview(root, params) {
  const r = range(params);
  const by = DIMENSIONS.includes(params.get("by")) ? params.get("by") : "model";
  const bySelect = h(
    "select",
    { id: "by", onchange: () => go("overview", { range: r.name, by: bySelect.value }) },
    DIMENSIONS.map((d) => h("option", { value: d, selected: d === by, text: d })),
  );
  append(root, [h("h1", { text: "Overview" }), rangeControls(params, "overview", [field("Broken down by", bySelect)])]);
  if (!session.request_log) return append(root, [logOff()]);
  const q = { group_by: r.group, by, start: r.start, end: r.end };
  const [spend, latency] = await Promise.all([
    api(`/admin/spend${query(q)}`),
    api(`/admin/latency${query({ start: r.start, end: r.end })}`),
  ]);
  const total = { requests: 0, total_tokens: 0, cost: 0, errors: 0 };
  const perDim = new Map();
  const perPeriod = new Map();
  for (const row of spend.data) {
    for (const k of Object.keys(total)) total[k] += row[k];
    const name = row[by] || "(none)";
    const d = perDim.get(name) || { requests: 0, total_tokens: 0, cost: 0, errors: 0 };
    const p = perPeriod.get(row.period) || { requests: 0, total_tokens: 0, cost: 0, errors: 0 };
    for (const k of Object.keys(total)) {
      d[k] += row[k];
      p[k] += row[k];
    }
    perDim.set(name, d);
    perPeriod.set(row.period, p);
  }
  append(root, [
    h(
      "div",
      { class: "tiles" },
      tile("Requests", num(total.requests), "requests"),
      tile("Tokens", num(total.total_tokens), "tokens"),
      tile("Spend", usd(total.cost), "spend"),
      tile("Errors", `${num(total.errors)} (${pct(total.requests ? total.errors / total.requests : 0)})`, "errors"),
    ),
  ]);
  const charts = h("div", { class: "charts" });
  for (const [metric, title] of [["requests", "Requests"], ["total_tokens", "Tokens"], ["cost", "Spend"], ["errors", "Errors"]]) {
    charts.append(
      h(
        "figure",
        {},
        h("img", {
          src: `/ui/chart/usage.svg${query({ ...q, metric })}`,
          alt: `${title} per ${r.group} by ${by}, ${r.label.toLowerCase()}`,
          width: 720,
          height: 260,
          "data-chart": metric,
        }),
      ),
    );
  }
  add(root, charts);
  const dims = [...perDim.entries()].sort((a, b) => b[1].requests - a[1].requests);
  add(root, 
    h("h2", { text: `By ${by}` }),
    table(
      `Requests, tokens, spend and errors by ${by}`,
      [by, "Requests", "Tokens", "Spend", "Errors", "Error rate"],
      dims.slice(0, 100).map(([name, d]) => [name, num(d.requests), num(d.total_tokens), usd(d.cost), num(d.errors), pct(d.requests ? d.errors / d.requests : 0)]),
      [1, 2, 3, 4, 5],
    ),
    dims.length > 100 ? h("p", { class: "note", text: `The 100 largest of ${dims.length}.` }) : null,
  );
  add(root, 
    h("h2", { text: "Latency" }),
    h(
      "div",
      { class: "tiles" },
      ["p50", "p95", "p99"].map((q2) => tile(`Latency ${q2}`, ms(latency.latency_ms && latency.latency_ms[q2]), `latency-${q2}`)),
      ["p50", "p95", "p99"].map((q2) => tile(`Time to first token ${q2}`, ms(latency.ttft_ms && latency.ttft_ms[q2]), `ttft-${q2}`)),
    ),
    h("figure", {}, h("img", { src: `/ui/chart/latency.svg${query({ start: r.start, end: r.end })}`, alt: "Latency and time to first token, p50 and p95, over the range", width: 720, height: 260, "data-chart": "latency" })),
    h("p", {
      class: "note",
      id: "latency-note",
      text: latency.exact
        ? `Percentiles of all ${num(latency.sampled)} requests in the range (successful ones).`
        : `Percentiles from the newest rows of each ${latency.bucket_seconds / 3600}-hour bucket: ${num(latency.sampled)} of ${num(latency.requests)} requests, each weighted by its bucket's share.`,
    }),
    table(
      "Latency and time to first token by model",
      ["Model", "Requests", "Latency p50", "Latency p95", "Latency p99", "TTFT p50", "TTFT p95", "TTFT p99"],
      latency.by_model.map((m) => [
        m.model,
        num(m.requests),
        ms(m.latency_ms && m.latency_ms.p50),
        ms(m.latency_ms && m.latency_ms.p95),
        ms(m.latency_ms && m.latency_ms.p99),
        ms(m.ttft_ms && m.ttft_ms.p50),
        ms(m.ttft_ms && m.ttft_ms.p95),
        ms(m.ttft_ms && m.ttft_ms.p99),
      ]),
      [1, 2, 3, 4, 5, 6, 7],
    ),
    h(
      "details",
      {},
      h("summary", { text: `Per ${r.group}: the charts' figures` }),
      table(
        `Totals per ${r.group}`,
        ["Period", "Requests", "Tokens", "Spend", "Errors"],
        [...perPeriod.entries()].map(([p, d]) => [when(p), num(d.requests), num(d.total_tokens), usd(d.cost), num(d.errors)]),
        [1, 2, 3, 4],
      ),
    ),
  );
}

// ----- Providers -------------------------------------------------------------------

function circuit(state) {
  if (state === "closed") return badge("closed", "ok");
  if (state === "half_open") return badge("half-open", "warn");
  return badge(state, "bad");
}

async function providers(root) {
  const refresh = h("button", { type: "button", class: "secondary", id: "refresh", text: "Refresh", onclick: () => render() });
  append(root, [
    h("h1", { text: "Providers" }),
    h("p", { class: "note", text: "Each endpoint's live statistics, the ones routing reads: uptime (429s excluded), time to first token, latency and throughput of successful requests over 30 minutes, and the circuit breaker. Refreshed every 10 seconds." }),
    h("div", { class: "controls" }, refresh),
  ]);
  const body = await api("/admin/providers");
  const rows = body.data.map((e) => [
    e.model,
    e.provider,
    h("code", { text: e.endpoint }),
    h("span", {}, circuit(e.circuit), e.resting ? ` ${e.resting}` : ""),
    pct(e.uptime_5m),
    pct(e.uptime_30m),
    pct(e.uptime_1d),
    ms(e.ttft_ms_30m && e.ttft_ms_30m.p50),
    ms(e.latency_ms_30m && e.latency_ms_30m.p50),
    ms(e.latency_ms_30m && e.latency_ms_30m.p90),
    e.throughput_30m ? `${num(e.throughput_30m.p50)} tok/s` : "–",
    pct(e.error_rate_5m),
    e.failures.length
      ? h(
          "details",
          {},
          h("summary", {}, e.recent_failures ? badge("failing now", "bad") : "", ` ${e.failures.length} recent`),
          h("ul", {}, e.failures.map((f) => h("li", {}, `${when(f.time)}: ${f.status || "no answer"} ${f.error || ""}${f.timeout ? " (timeout)" : ""} `, h("a", { href: `#/requests/${encodeURIComponent(f.generation)}`, text: "request" })))),
        )
      : "none",
  ]);
  add(root, 
    table(
      "Endpoints",
      ["Model", "Provider", "Endpoint", "Circuit", "Uptime 5 min", "Uptime 30 min", "Uptime 1 day", "TTFT p50", "Latency p50", "Latency p90", "Throughput p50", "Errors 5 min", "Recent failures"],
      rows,
      [4, 5, 6, 7, 8, 9, 10, 11],
    ),
  );
  refreshTimer = setInterval(() => {
    if (parseHash().page === "providers") render();
  }, 10000);
}

// ----- Routing -----------------------------------------------------------------------

async function routing(root, params) {
  const r = range(params);
  append(root, [h("h1", { text: "Routing" }), rangeControls(params, "routing")]);
  if (!session.request_log) return append(root, [logOff()]);
  const body = await api(`/admin/routing${query({ start: r.start, end: r.end })}`);
  if (!body.routers.length) {
    add(root, 
      h("p", { class: "notice", role: "note", id: "no-router" }, "No router is configured on this gateway: requests name their model themselves. Add one under ", h("code", { text: "routers:" }), " in the config (docs/routing.md) and ask for ", h("code", { text: "junction/auto" }), "."),
    );
  }
  const names = Object.keys(body.results);
  if (!names.length) {
    add(root, h("p", { class: "note", text: "No routed requests in this range." }));
    return;
  }
  add(root, 
    h("p", {
      class: "note",
      text: body.exact
        ? `From all ${num(body.sampled)} logged requests in the range.`
        : `From the newest rows of each ${body.bucket_seconds / 3600}-hour bucket (${num(body.sampled)} of ${num(body.requests)} requests), each weighted by its bucket's share: estimates.`,
    }),
  );
  const configured = new Map(body.routers.map((x) => [x.name, x]));
  for (const name of names) {
    const res = body.results[name];
    const cfg = configured.get(name);
    const section = h("section", { "aria-labelledby": `router-${name}`, "data-router": name });
    add(section, 
      h("h2", { id: `router-${name}` }, `Router ${name}`, cfg && cfg.shadow ? " " : "", cfg && cfg.shadow ? badge("shadow", "warn") : "", cfg ? "" : " (no longer configured)"),
    );
    if (cfg) {
      add(section, 
        h(
          "dl",
          { class: "fields" },
          h("dt", { text: "Candidates" }),
          h("dd", { text: cfg.candidates.join(", ") }),
          h("dt", { text: "Always-strong model" }),
          h("dd", { text: cfg.strong || "unknown (no prices)" }),
          cfg.shadow ? [h("dt", { text: "Serves" }), h("dd", { text: cfg.default || "–" })] : null,
          h("dt", { text: "Answers to" }),
          h("dd", { text: cfg.aliases.join(", ") }),
        ),
      );
    }
    const tiles = [tile("Routed requests", num(res.requests), "routed"), tile("Cost", usd(res.cost), "cost")];
    if (res.shadow) {
      tiles.push(tile("Agreement with served model", pct(res.shadow.agreement), "agreement"));
      tiles.push(tile("Cost if it had routed", usd(res.shadow.cost_if_routed), "if-routed"));
    } else if (res.always_strong_cost !== undefined) {
      tiles.push(tile("Always-strong cost", usd(res.always_strong_cost), "strong-cost"));
      tiles.push(tile("Saved", `${usd(res.savings)} (${pct(res.savings_share)})`, "savings"));
    }
    add(section, h("div", { class: "tiles" }, tiles));
    const models = [...new Set([...Object.keys(res.share), ...Object.keys(res.served)])].sort();
    add(section, 
      table(`${name}: share of calls by model`, ["Model", res.shadow ? "Router's choice" : "Chosen", "Served"], models.map((m) => [m, pct(res.share[m] || 0), pct(res.served[m] || 0)]), [1, 2]),
      h("figure", {}, h("img", { src: `/ui/chart/routing.svg${query({ router: name, start: r.start, end: r.end })}`, alt: `Share of ${name}'s calls by model over time`, width: 720, height: 260, "data-chart": `routing-${name}` })),
    );
    add(root, section);
  }
  const latest = table(
    "The router's latest decisions",
    ["Time", "Request", "Router", "Chose", "Served", "Score", "Status", "Cost"],
    body.decisions.map((d) => [when(d.time), h("a", { href: `#/requests/${encodeURIComponent(d.id)}`, text: d.id }), d.router + (d.shadow ? " (shadow)" : ""), d.chosen, d.served, d.score === null ? "–" : Number(d.score).toFixed(3), String(d.status), usd(d.cost)]),
    [5, 6, 7],
  );
  latest.id = "decisions";
  add(root, h("h2", { text: "Latest decisions" }), latest);
}

// ----- Request log explorer --------------------------------------------------------------

const LOG_FILTERS = [
  ["start", "From (UTC)", "datetime-local"],
  ["end", "To (UTC)", "datetime-local"],
  ["key", "Key id", "text"],
  ["model", "Model", "text"],
  ["provider", "Provider", "text"],
  ["team", "Team id", "text"],
  ["status", "Status", "number"],
  ["min_cost", "Cost at least (USD)", "number"],
];

function toLocalInput(value) {
  return value ? value.replace(/Z$/, "").slice(0, 16) : "";
}

async function requests(root, params, rest) {
  if (rest.length) return detail(root, rest[0]);
  append(root, [h("h1", { text: "Requests" })]);
  if (!session.request_log) return append(root, [logOff()]);
  const inputs = {};
  const form = h("form", { class: "form", id: "log-filters", role: "search", "aria-label": "Filter requests" });
  const models = h("datalist", { id: "model-names" }, session.models.map((m) => h("option", { value: m })));
  for (const [name, label, type] of LOG_FILTERS) {
    const attrs = { id: `f-${name}`, name, type, value: type === "datetime-local" ? toLocalInput(params.get(name)) : params.get(name) || "" };
    if (name === "model") attrs.list = "model-names";
    if (name === "status") Object.assign(attrs, { min: 100, max: 599 });
    if (name === "min_cost") Object.assign(attrs, { min: 0, step: "any" });
    inputs[name] = h("input", attrs);
    form.append(h("label", { for: `f-${name}` }, label, inputs[name]));
  }
  form.append(models, h("div", {}, h("button", { type: "submit", text: "Filter" }), " ", h("a", { href: "#/requests", text: "Clear" })));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const wanted = {};
    for (const [name, , type] of LOG_FILTERS) {
      const v = inputs[name].value.trim();
      if (v) wanted[name] = type === "datetime-local" ? `${v}:00Z` : v;
    }
    go("requests", wanted);
  });
  add(root, form);
  const filters = {};
  for (const [name] of LOG_FILTERS) if (params.get(name)) filters[name] = params.get(name);
  const key = JSON.stringify(filters);
  if (cursors.key !== key) Object.assign(cursors, { key, stack: [] });
  const cursor = params.get("cursor") || "";
  const page = await api(`/admin/logs${query({ ...filters, limit: PAGE_SIZE, cursor })}`);
  const rows = page.data.map((row) => [
    when(row.time),
    h("a", { href: `#/requests/${encodeURIComponent(row.id)}`, text: row.id }),
    row.key_name || row.key_id || "–",
    row.model_used,
    row.provider || "–",
    h("span", {}, row.status >= 400 ? badge(String(row.status), "bad") : String(row.status)),
    num(row.prompt_tokens + row.completion_tokens),
    usd(row.cost),
    ms(row.latency_ms),
  ]);
  add(root, table(`Requests, newest first${cursor ? " (older page)" : ""}`, ["Time", "Request", "Key", "Model", "Provider", "Status", "Tokens", "Cost", "Latency"], rows, [6, 7, 8]));
  const pager = h("div", { class: "pager" });
  if (cursor) {
    pager.append(
      h("button", {
        type: "button",
        class: "secondary",
        id: "newer",
        text: "← Newer",
        onclick: () => go("requests", { ...filters, cursor: cursors.stack.pop() || "" }),
      }),
    );
  }
  if (page.next_cursor) {
    pager.append(
      h("button", {
        type: "button",
        class: "secondary",
        id: "older",
        text: "Older →",
        onclick: () => {
          cursors.stack.push(cursor);
          go("requests", { ...filters, cursor: page.next_cursor });
        },
      }),
    );
  }
  pager.append(h("span", { class: "note", text: `${page.data.length} shown` }));
  add(root, pager);
}

async function detail(root, id) {
  append(root, [h("p", {}, h("a", { href: "#/requests", text: "← All requests" })), h("h1", { text: "Request" })]);
  const row = await api(`/admin/logs/${encodeURIComponent(id)}`);
  const fields = [
    ["Id", row.id],
    ["Time", when(row.time)],
    ["Status", row.error ? `${row.status} (${row.error})` : String(row.status)],
    ["Key", row.key_name ? `${row.key_name} (${row.key_id})` : row.key_id || "–"],
    ["Team", row.team || "–"],
    ["User", row.user_id || "–"],
    ["Door", row.door],
    ["Model asked", row.model_asked],
    ["Model used", row.model_used],
    ["Provider", row.provider || "–"],
    ["Endpoint", row.endpoint || "–"],
    ["Prompt tokens", num(row.prompt_tokens)],
    ["Completion tokens", num(row.completion_tokens)],
    ["Cached tokens", num(row.cached_tokens)],
    ["Reasoning tokens", num(row.reasoning_tokens)],
    ["Cost", usd(row.cost)],
    ["Latency", ms(row.latency_ms)],
    ["Time to first token", ms(row.ttft_ms)],
    ["Streamed", row.streamed ? "yes" : "no"],
    ["Cancelled", row.cancelled ? "yes" : "no"],
    ["Cache hit", row.cache_hit ? "yes" : "no"],
    ["Finish reason", row.finish_reason || "–"],
    ["Upstream id", row.upstream_id || "–"],
    ["Tags", row.tags.length ? row.tags.join(", ") : "–"],
    ["Router", row.router ? `${row.router.name}: chose ${row.router.model} (score ${Number(row.router.score).toFixed(3)})${row.router.shadow ? ", shadow" : ""}` : "–"],
  ];
  add(root, h("dl", { class: "fields", id: "request-fields" }, fields.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])));
  add(root, 
    h("h2", { text: "Attempts" }),
    table(
      "Attempts, in order",
      ["#", "Endpoint", "Provider", "Status", "Error", "Latency", "TTFT"],
      row.attempts.map((a, i) => [String(i + 1), a.endpoint, a.provider || "–", String(a.status), a.error ? `${a.error}${a.timeout ? " (timeout)" : ""}` : "–", ms(a.latency_ms), ms(a.ttft_ms)]),
      [0, 5, 6],
    ),
  );
  if (row.metadata) add(root, h("h2", { text: "Metadata" }), h("pre", { text: JSON.stringify(row.metadata, null, 2) }));
  if (row.body) add(root, h("h2", { text: "Request body (redacted)" }), h("pre", { text: row.body }));
}

// ----- Keys ------------------------------------------------------------------------------

const KEY_FIELDS = [
  ["name", "Name", "text"],
  ["models", "Models (comma-separated globs)", "text"],
  ["rpm", "Requests per minute", "number"],
  ["tpm", "Tokens per minute", "number"],
  ["max_parallel", "Concurrent requests", "number"],
  ["budget_usd", "Budget (USD)", "number"],
  ["soft_budget_usd", "Soft budget (USD)", "number"],
];

function useItem(item) {
  const label = { rpm: "rpm", tpm: "tpm", max_parallel: "parallel", budget_usd: "budget", soft_budget_usd: "soft budget" }[item.limit] || item.limit;
  const money = item.limit.endsWith("usd");
  const used = item.used === null ? "?" : money ? usd(item.used) : num(item.used);
  const max = money ? usd(item.max) : num(item.max);
  const text = `${label}: ${used} of ${max}${item.period ? ` (${item.period})` : ""}`;
  const meter = item.used === null ? null : h("meter", { min: 0, max: item.max, value: Math.min(item.used, item.max), "aria-label": text });
  return h("li", { "data-limit": item.limit }, text, " ", meter);
}

async function keys(root) {
  append(root, [h("h1", { text: "Keys" })]);
  const secretSlot = h("div", { id: "secret-slot" });
  const inputs = {};
  const form = h("form", { class: "form", id: "create-key", "aria-label": "Create a key" });
  for (const [name, label, type] of KEY_FIELDS) {
    const attrs = { id: `k-${name}`, name, type };
    if (type === "number") Object.assign(attrs, { min: name.endsWith("usd") ? 0 : 1, step: name.endsWith("usd") ? "any" : 1 });
    if (name === "name") attrs.required = true;
    inputs[name] = h("input", attrs);
    form.append(h("label", { for: `k-${name}` }, label, inputs[name]));
  }
  inputs.budget_period = h(
    "select",
    { id: "k-budget_period", name: "budget_period" },
    ["monthly", "weekly", "daily", "total", "24h", "7d", "30d"].map((p) => h("option", { value: p, text: p })),
  );
  form.append(h("label", { for: "k-budget_period" }, "Budget period", inputs.budget_period));
  const teams = await api("/admin/teams");
  inputs.team = h("select", { id: "k-team", name: "team" }, h("option", { value: "", text: "(no team)" }), teams.data.map((t) => h("option", { value: t.id, text: `${t.name} (${t.id})` })));
  form.append(h("label", { for: "k-team" }, "Team", inputs.team));
  form.append(h("div", {}, h("button", { type: "submit", text: "Create key" })));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { name: inputs.name.value.trim() };
    for (const name of ["rpm", "tpm", "max_parallel"]) if (inputs[name].value) body[name] = Number.parseInt(inputs[name].value, 10);
    for (const name of ["budget_usd", "soft_budget_usd"]) if (inputs[name].value) body[name] = Number(inputs[name].value);
    if (body.budget_usd || body.soft_budget_usd) body.budget_period = inputs.budget_period.value;
    if (inputs.models.value.trim()) body.models = inputs.models.value.split(",").map((s) => s.trim()).filter(Boolean);
    if (inputs.team.value) body.team = inputs.team.value;
    const alert = document.getElementById("page-error");
    try {
      const made = await api("/admin/keys", { method: "POST", body });
      alert.textContent = "";
      form.reset();
      showSecret(secretSlot, made);
      await keyTable(list);
    } catch (err) {
      alert.textContent = err.param ? `${err.param}: ${err.message}` : err.message;
    }
  });
  const list = h("div", { id: "key-list" });
  append(root, [h("h2", { text: "Create a key" }), form, secretSlot, h("h2", { text: "All keys" }), list]);
  await keyTable(list);
}

function showSecret(slot, made) {
  const code = h("code", { id: "new-secret", text: made.key });
  const copy = h("button", {
    type: "button",
    class: "secondary",
    text: "Copy",
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(code.textContent);
        announce("Key copied");
      } catch {
        announce("Select the key and copy it by hand");
      }
    },
  });
  const done = h("button", { type: "button", id: "secret-done", text: "I have saved it", onclick: () => slot.replaceChildren() });
  slot.replaceChildren(
    h(
      "div",
      { class: "secret", role: "region", "aria-label": "The new key's secret" },
      h("p", {}, h("strong", { text: `Key ${made.name} (${made.id}) created.` }), " Copy its secret now: it is shown this once and cannot be read again."),
      code,
      copy,
      " ",
      done,
    ),
  );
  done.focus();
}

async function keyTable(list) {
  const now = Math.ceil(Date.now() / 3600000) * 3600;
  const [all, use, spend] = await Promise.all([
    api("/admin/keys"),
    api("/admin/usage"),
    session.request_log ? api(`/admin/spend${query({ group_by: "day", by: "key", start: now - 30 * 86400, end: now })}`) : { data: [] },
  ]);
  const usage = new Map(use.data.filter((u) => u.scope === "key").map((u) => [u.id, u.limits]));
  const spent = new Map();
  for (const row of spend.data) spent.set(row.key, (spent.get(row.key) || 0) + row.cost);
  const rows = all.data.map((k) => {
    const limits = usage.get(k.id) || [];
    let action = "–";
    if (k.status !== "revoked") {
      action = h("span", {});
      const revoke = h("button", { type: "button", class: "danger", "data-revoke": k.id, "aria-label": `Revoke key ${k.name}`, text: "Revoke" });
      revoke.addEventListener("click", () => {
        const yes = h("button", { type: "button", class: "danger", "data-confirm": k.id, text: `Yes, revoke ${k.name}` });
        const no = h("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => action.replaceChildren(revoke) });
        yes.addEventListener("click", async () => {
          try {
            await api(`/admin/keys/${encodeURIComponent(k.id)}`, { method: "DELETE" });
            announce(`Key ${k.name} revoked`);
            await keyTable(list);
          } catch (err) {
            document.getElementById("page-error").textContent = err.message;
          }
        });
        action.replaceChildren(yes, " ", no);
        yes.focus();
      });
      action.append(revoke);
    }
    return [
      k.name,
      h("code", { text: k.id }),
      h("code", { text: `${k.prefix}…` }),
      k.status === "active" ? badge("active", "ok") : badge(k.status, "bad"),
      k.team || "–",
      limits.length ? h("ul", { class: "use" }, limits.map(useItem)) : k.status === "revoked" ? "–" : "no limits",
      usd(spent.get(k.id) || 0),
      when(k.created_at),
      action,
    ];
  });
  list.replaceChildren(table(`${all.data.length} keys`, ["Name", "Id", "Prefix", "Status", "Team", "Limits: used now", "Spend, 30 days", "Created", "Actions"], rows, [6], "No keys yet."));
}

// ----- start -----------------------------------------------------------------------------

async function start() {
  const res = await fetch("/ui/session", { credentials: "same-origin" });
  const who = await res.json();
  if (!who.authenticated) {
    showLogin(who.master_key ? "" : "This gateway has no master key (server.master_key), so the dashboard cannot be opened.");
    return;
  }
  session = who;
  document.getElementById("top").hidden = false;
  await render();
}

document.getElementById("logout").addEventListener("click", logout);
document.getElementById("skip").addEventListener("click", (e) => {
  e.preventDefault();
  document.getElementById("main").focus();
});
window.addEventListener("hashchange", render);
start();
