// The monitor page: polls the JSON endpoints once a second and streams the live tail over
// server-sent events. Plain DOM, no framework; uPlot (served by the monitor) draws the charts.
// Cookies carry the token (set when the page was opened with ?token=), so requests need nothing else.

const $ = (id) => document.getElementById(id);
const number = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });
const fmt = (value) => (value === null || value === undefined ? "–" : number.format(value));
const POLL_MS = 1000;
const TAIL_LINES = 200;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else node.setAttribute(name, String(value));
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
  return body;
}

function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// ---- totals ------------------------------------------------------------------------------
let lastCpu = null;
function showVarz(v) {
  $("bus-kind").textContent = v.bus;
  $("uptime").textContent = `up ${duration(v.uptimeMs)}`;
  $("rate-in").textContent = fmt(v.rates.sentPerSecond);
  $("rate-out").textContent = fmt(v.rates.deliveredPerSecond);
  $("rate-dropped").textContent = fmt(v.rates.droppedPerSecond);
  $("sent-total").textContent = fmt(v.stats.sent);
  $("delivered-total").textContent = fmt(v.stats.delivered);
  $("dropped-total").textContent = fmt(v.stats.dropped + v.stats.droppedOnStop + v.stats.aborted);
  $("refused-total").textContent = fmt(v.stats.refused);
  $("queue-title").textContent = v.queue.unit === "bytes" ? "ring" : "queue";
  $("queue-occupancy").textContent = `${(v.queue.occupancy * 100).toFixed(1)}%`;
  $("queue-meter").value = v.queue.occupancy;
  $("subscription-count").textContent = fmt(v.subscriptions);
  $("client-count").textContent = fmt(v.clients);
  $("lost-count").textContent = fmt(v.lostSubscribers);
  const lookups = v.matchCache.hits + v.matchCache.misses;
  $("cache-hit-rate").textContent = lookups === 0 ? "–" : `${(v.matchCache.hitRate * 100).toFixed(1)}%`;
  $("fan-out").textContent = number.format(v.fanOut);
  if (v.dispatcherCpuMs === null) $("dispatcher-cpu").textContent = "in-thread";
  else {
    if (lastCpu !== null && v.now > lastCpu.now) {
      const share = (v.dispatcherCpuMs - lastCpu.ms) / (v.now - lastCpu.now);
      $("dispatcher-cpu").textContent = `${Math.round(Math.max(0, share) * 100)}% CPU`;
    }
    lastCpu = { ms: v.dispatcherCpuMs, now: v.now };
  }
  $("blocked-on").textContent = v.blockedOn === null ? "not blocked" : `blocked on ${v.blockedOn}`;
  $("blocked-on").className = v.blockedOn === null ? "" : "status bad";
}

// ---- charts ------------------------------------------------------------------------------
const charts = {};
function chartWidth(id) {
  return Math.max(240, $(id).clientWidth || 600);
}
function makeCharts() {
  const clock = (_u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString());
  const axes = [{ space: 90, values: clock }, { size: 60 }];
  const line = (label, stroke, extra = {}) => ({
    label,
    stroke,
    width: 1.5,
    points: { show: false },
    ...extra,
  });
  charts.rate = new globalThis.uPlot(
    {
      width: chartWidth("rate-chart"),
      height: 170,
      axes,
      series: [{}, line("in", "#2f6fde"), line("out", "#2e7d32"), line("dropped", "#c62828")],
    },
    [[], [], [], []],
    $("rate-chart"),
  );
  charts.queue = new globalThis.uPlot(
    {
      width: chartWidth("queue-chart"),
      height: 170,
      axes,
      series: [{}, line("queued", "#c77700", { fill: "rgba(199,119,0,.12)" })],
    },
    [[], []],
    $("queue-chart"),
  );
  window.addEventListener("resize", () => {
    charts.rate.setSize({ width: chartWidth("rate-chart"), height: 170 });
    charts.queue.setSize({ width: chartWidth("queue-chart"), height: 170 });
  });
}
function showHistory(h) {
  if (!charts.rate && globalThis.uPlot) makeCharts();
  if (!charts.rate) return;
  charts.rate.setData([h.t, h.sentPerSecond, h.deliveredPerSecond, h.droppedPerSecond]);
  charts.queue.setData([h.t, h.queued]);
}

// ---- tables ------------------------------------------------------------------------------
function showSubscriptions(page) {
  const rows = page.subscriptions.map((s) => {
    const fill = el("meter", {
      class: "fill",
      min: 0,
      max: 1,
      low: 0.5,
      high: 0.8,
      optimum: 0,
      value: s.fill,
    });
    const row = el(
      "tr",
      { "data-id": s.id },
      el("td", {}, s.id),
      el("td", { class: "num" }, s.client),
      el("td", {}, s.system),
      s.kind === "" ? el("td", { class: "muted" }, "(any)") : el("td", {}, s.kind),
      el("td", {}, s.path ?? ""),
      el("td", {}, `${s.overflow} ${s.bufferSize}`),
      el("td", { class: "num" }, fmt(s.pending), fill),
      el("td", { class: "num" }, fmt(s.delivered)),
      el("td", { class: "num" }, fmt(s.dropped)),
    );
    if (s.blocked) row.classList.add("blocked");
    else if (s.slowest) row.classList.add("slowest");
    if (s.monitorTail) row.classList.add("tail");
    return row;
  });
  $("subs-table").tBodies[0].replaceChildren(...rows);
  $("subs-total").textContent =
    page.total > page.subscriptions.length
      ? `${page.subscriptions.length} of ${page.total}`
      : `${page.total}`;
}

function showClients(page) {
  const rows = page.clients.map((c) =>
    el(
      "tr",
      { "data-client": c.client },
      el("td", {}, c.client === 0 ? "0 (started the bus)" : c.client),
      el("td", { class: "num" }, fmt(c.subscriptions)),
      el("td", { class: "num" }, fmt(c.sent)),
      el("td", { class: "num" }, fmt(c.refused)),
    ),
  );
  $("clients-table").tBodies[0].replaceChildren(...rows);
}

async function poll() {
  try {
    const sort = $("subs-sort").value;
    const [varz, subs, clients, history] = await Promise.all([
      getJson("varz"),
      getJson(`subsz?sort=${encodeURIComponent(sort)}&limit=50`),
      getJson("connz?limit=50"),
      getJson("history?seconds=600"),
    ]);
    showVarz(varz);
    showSubscriptions(subs);
    showClients(clients);
    showHistory(history);
    $("status").textContent = `live · ${new Date(varz.now).toLocaleTimeString()}`;
    $("status").className = "status ok";
  } catch (error) {
    $("status").textContent = `no answer: ${error.message}`;
    $("status").className = "status bad";
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// ---- which subscriptions match? -----------------------------------------------------------
$("match-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const query = new URLSearchParams({ system: $("match-system").value, kind: $("match-kind").value });
  if ($("match-path").value !== "") query.set("path", $("match-path").value);
  const out = $("match-result");
  try {
    const result = await getJson(`match?${query}`);
    const ids = result.matches.map((m) =>
      el("code", { title: `${m.system} ${m.kind || "*"}${m.path ? ` path ${m.path}` : ""}` }, m.id),
    );
    out.replaceChildren(result.count === 0 ? "no subscription matches" : `${result.count} match: `, ...ids);
    out.dataset.ids = result.matches.map((m) => m.id).join(" ");
  } catch (error) {
    out.textContent = error.message;
    out.dataset.ids = "";
  }
});

// ---- live tail ---------------------------------------------------------------------------
let tail = null;
function stopTail(reason) {
  tail?.close();
  tail = null;
  $("tail-toggle").textContent = "start";
  $("tail-status").textContent = reason;
}
function tailLine(e) {
  const parts = [
    el("span", { class: "time" }, new Date(e.t).toLocaleTimeString(), " "),
    el("span", { class: "sys" }, e.system),
    " ",
    el("span", { class: "kind" }, e.kind),
    " ",
    el("span", { class: "path" }, e.path),
  ];
  if (e.dataHidden) parts.push(" ", el("span", { class: "data" }, "(data hidden)"));
  else if ("data" in e) parts.push(" ", el("span", { class: "data" }, JSON.stringify(e.data)));
  return el("li", { "data-system": e.system, "data-kind": e.kind }, ...parts);
}
$("tail-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (tail !== null) return stopTail("stopped");
  const query = new URLSearchParams({ system: $("tail-system").value || "**" });
  if ($("tail-kind").value !== "") query.set("kind", $("tail-kind").value);
  if ($("tail-path").value !== "") query.set("path", $("tail-path").value);
  $("tail-list").replaceChildren();
  tail = new EventSource(`tail?${query}`);
  $("tail-toggle").textContent = "stop";
  $("tail-status").textContent = "connecting…";
  tail.addEventListener("hello", (e) => {
    const hello = JSON.parse(e.data);
    $("tail-status").textContent = `streaming through ${hello.subscription}, sampled (at most ${
      (hello.sampling.eventsPerTick * 1000) / hello.sampling.tickMs
    } events/s)${hello.showData ? "" : ", payloads hidden"}`;
  });
  tail.addEventListener("bus", (e) => {
    const list = $("tail-list");
    list.append(tailLine(JSON.parse(e.data)));
    while (list.childElementCount > TAIL_LINES) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
  });
  tail.addEventListener("stats", (e) => {
    const s = JSON.parse(e.data);
    $("tail-status").textContent =
      `shown ${fmt(s.shown)} · skipped ${fmt(s.droppedByBus + s.sampledOut)} (buffer full ${fmt(s.droppedByBus)}, sampled out ${fmt(s.sampledOut)})`;
  });
  tail.addEventListener("end", (e) => stopTail(JSON.parse(e.data).reason));
  tail.addEventListener("error", () => {
    // A refused stream (bad filter, too many tails) closes at once; a dropped one retries by itself.
    if (tail?.readyState === EventSource.CLOSED) stopTail("the monitor refused the tail (check the filter)");
  });
});

poll();
