// The supervisors' dashboard: portfolio KPIs of one facility or all, A/R by aging bucket as a chart drawn in SVG
// (presentation attributes only, so the page's Content-Security-Policy needs no inline style), the worklist queues and
// what each agent worked in the last 24 hours. Everything comes from the API with the supervisor's own key; figures
// are projections of committed account events. Shares api, $, fill, money and showProblem with console.js.
"use strict";

const svgNs = "http://www.w3.org/2000/svg";
const percent = (value) => (value == null ? "—" : `${(value * 100).toFixed(1)} %`);
const accounts = (n) => (n === 1 ? "1 account" : `${n} accounts`);

function svg(name, attributes, text) {
  const element = document.createElementNS(svgNs, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

function tiles(kpis) {
  const items = [
    ["Total A/R", money.format(kpis.totalAr), `${accounts(kpis.accountsWithBalance)} with a balance`],
    ["Patient A/R", money.format(kpis.patientAr), `insurance ${money.format(kpis.insuranceAr)}`],
    ["Days in A/R", kpis.daysInAr == null ? "—" : Number(kpis.daysInAr).toFixed(1), `against ${money.format(kpis.netRevenueLast90Days ?? kpis.grossChargesLast90Days)} net revenue in 90 days (${money.format(kpis.grossChargesLast90Days)} charged)`],
    ["Collection rate", percent(kpis.collectionRate), "patient payments over patient responsibility"],
    ["Promises kept", percent(kpis.promiseKeptRate), `${kpis.promisesKept} kept, ${kpis.promisesBroken} broken`],
    ["Credit balances", money.format(kpis.creditBalances.amount), `${accounts(kpis.creditBalances.accounts)} to refund`],
    ["Placed with an agency", money.format(kpis.placedWithAgency.amount), accounts(kpis.placedWithAgency.accounts)],
    ["Days to paid in full", kpis.averageDaysToPaidInFull == null ? "—" : Number(kpis.averageDaysToPaidInFull).toFixed(1),
      `from the first statement, ${accounts(kpis.paidInFullLast90Days)} paid in full in 90 days`],
    ["Refunds overdue", money.format(kpis.refundsOverdue.amount), `${accounts(kpis.refundsOverdue.accounts)} past the refund deadline`],
  ];
  $("kpi-tiles").replaceChildren(...items.map(([label, value, note]) => {
    const div = document.createElement("div");
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    const small = document.createElement("dd");
    small.className = "muted";
    small.textContent = note;
    div.append(dt, dd, small);
    return div;
  }));
}

// Bars of patient and insurance A/R per aging bucket; the table below carries the same figures for screen readers.
function agingChart(buckets) {
  const chart = $("aging-chart");
  const width = 640, height = 220, left = 70, bottom = 30, top = 10;
  const max = Math.max(1, ...buckets.map((b) => b.amount));
  const slot = (width - left) / Math.max(1, buckets.length);
  const scale = (amount) => ((height - bottom - top) * amount) / max;
  const parts = [
    svg("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: "#8796a5" }),
    svg("text", { x: left - 6, y: top + 10, "text-anchor": "end", "font-size": 11, fill: "#44566c" }, money.format(max)),
    svg("text", { x: left - 6, y: height - bottom, "text-anchor": "end", "font-size": 11, fill: "#44566c" }, "$0"),
  ];
  buckets.forEach((bucket, i) => {
    const x = left + i * slot + slot * 0.15;
    const barHeight = scale(bucket.amount);
    const bar = svg("rect", { x, y: height - bottom - barHeight, width: slot * 0.7, height: Math.max(barHeight, bucket.amount > 0 ? 1 : 0), fill: "#1f6feb", class: "bar" });
    bar.append(svg("title", {}, `${bucket.label} days: ${money.format(bucket.amount)} on ${bucket.accounts} accounts`));
    parts.push(bar, svg("text", { x: x + slot * 0.35, y: height - bottom + 16, "text-anchor": "middle", "font-size": 12, fill: "#1d2733" }, bucket.label));
  });
  chart.replaceChildren(...parts);
  $("aging-table").tBodies[0].replaceChildren(...buckets.map((b) => row([[b.label], [String(b.accounts), true], [money.format(b.amount), true]])));
}

// One small line chart per figure over the days the trend has; its label says the first and the latest value in words.
const dollars = (v) => money.format(v);
const trendFigures = [
  ["totalAr", "Total A/R", dollars],
  ["patientAr", "Patient A/R", dollars],
  ["daysInAr", "Days in A/R", (v) => Number(v).toFixed(1)],
  ["collectionRate", "Collection rate", percent],
  ["promiseKeptRate", "Promise-kept rate", percent],
  ["averageDaysToPaidInFull", "Days to paid in full", (v) => Number(v).toFixed(1)],
  ["creditBalanceAmount", "Credit balances", dollars],
  ["refundsOverdueAmount", "Refunds overdue", dollars],
  ["placedAmount", "Placed with agencies", dollars],
];
// The daily flows drawn the same way (a day's value, not a running figure).
const flowFigures = [
  ["cashTotal", "Cash received per day", dollars],
  ["rightPartyContactRate", "Right-party contact rate of outbound calls", percent],
  ["placed", "Accounts placed per day", String],
  ["recalled", "Accounts recalled per day", String],
];

function trendChart(days, key, label, format) {
  const points = days.filter((d) => d.figures[key] != null).map((d) => ({ day: d.day, value: Number(d.figures[key]) }));
  const figure = document.createElement("figure");
  figure.className = "trend";
  const caption = document.createElement("figcaption");
  const width = 300, height = 90, pad = 6;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "trend-chart" });
  if (points.length === 0) {
    caption.textContent = `${label}: no figures yet`;
  } else {
    const first = points[0], last = points[points.length - 1];
    caption.textContent = `${label}: ${format(last.value)} on ${last.day}` + (points.length > 1 ? `, from ${format(first.value)} on ${first.day}` : "");
    const start = Date.parse(first.day), span = Math.max(1, Date.parse(last.day) - start);
    const min = Math.min(...points.map((p) => p.value)), max = Math.max(...points.map((p) => p.value));
    const x = (p) => pad + ((Date.parse(p.day) - start) / span) * (width - 2 * pad);
    const y = (p) => height - pad - (max === min ? 0.5 : (p.value - min) / (max - min)) * (height - 2 * pad);
    chart.append(svg("polyline", { points: points.map((p) => `${x(p).toFixed(1)},${y(p).toFixed(1)}`).join(" "), fill: "none", stroke: "#1f6feb", "stroke-width": 2, class: "trend-line" }));
    for (const p of points) chart.append(svg("circle", { cx: x(p).toFixed(1), cy: y(p).toFixed(1), r: 2.5, fill: "#1f6feb" }, undefined));
  }
  chart.setAttribute("aria-label", caption.textContent);
  figure.append(chart, caption);
  return figure;
}

const forFacility = (path, facility) => (facility ? `${path}${path.includes("?") ? "&" : "?"}facility=${encodeURIComponent(facility)}` : path);

async function trends(facility) {
  const [trend, daily] = await Promise.all([
    api("GET", forFacility("/api/kpis/trend", facility)).then((r) => r.json),
    api("GET", forFacility("/api/kpis/daily", facility)).then((r) => r.json),
  ]);
  const flows = daily.days.map((d) => ({ day: d.day, figures: d }));
  $("trends").replaceChildren(
    ...trendFigures.map(([key, label, format]) => trendChart(trend.days, key, label, format)),
    ...flowFigures.map(([key, label, format]) => trendChart(flows, key, label, format)));
  cashChart(daily);
}

const paymentChannelWords = { agent: "Agents", patientPage: "Patient page", mail: "Mail", agency: "Agencies", remittance: "Insurance remittance", other: "Other" };
const paymentChannelColors = { agent: "#1f6feb", patientPage: "#2da44e", mail: "#bf8700", agency: "#8250df", remittance: "#57606a", other: "#cf222e" };

// Cash per day as stacked bars, one colour per channel, the legend beside the plot (never over a bar); the table
// below gives each channel's total over the last 7, 30 and 90 days, and the placements and recalls.
function cashChart(daily) {
  const chart = $("cash-chart");
  const width = 640, height = 200, left = 70, bottom = 24, top = 10, legend = 170;
  const plot = width - left - legend;
  const max = Math.max(1, ...daily.days.map((d) => d.cashTotal));
  const slot = plot / Math.max(1, daily.days.length);
  const scale = (amount) => ((height - bottom - top) * amount) / max;
  const parts = [
    svg("line", { x1: left, y1: height - bottom, x2: left + plot, y2: height - bottom, stroke: "#8796a5" }),
    svg("text", { x: left - 6, y: top + 10, "text-anchor": "end", "font-size": 11, fill: "#44566c" }, money.format(max)),
    svg("text", { x: left - 6, y: height - bottom, "text-anchor": "end", "font-size": 11, fill: "#44566c" }, "$0"),
    svg("text", { x: left, y: height - 6, "font-size": 11, fill: "#44566c" }, daily.from),
    svg("text", { x: left + plot, y: height - 6, "text-anchor": "end", "font-size": 11, fill: "#44566c" }, daily.to),
  ];
  daily.days.forEach((d, i) => {
    let y = height - bottom;
    for (const channel of daily.channels) {
      const amount = d.cash[channel] || 0;
      if (amount <= 0) continue;
      const h = Math.max(1, scale(amount));
      y -= h;
      const bar = svg("rect", { x: left + i * slot, y, width: Math.max(1, slot * 0.8), height: h, fill: paymentChannelColors[channel] || "#57606a", class: "cash-bar" });
      bar.append(svg("title", {}, `${d.day}, ${paymentChannelWords[channel] || channel}: ${money.format(amount)}`));
      parts.push(bar);
    }
  });
  daily.channels.forEach((channel, i) => {
    const y = top + i * 18;
    parts.push(svg("rect", { x: left + plot + 12, y, width: 12, height: 12, fill: paymentChannelColors[channel] || "#57606a" }),
      svg("text", { x: left + plot + 28, y: y + 10, "font-size": 12, fill: "#1d2733" }, paymentChannelWords[channel] || channel));
  });
  chart.replaceChildren(...parts);
  const sum = (days, pick) => daily.days.slice(-days).reduce((n, d) => n + pick(d), 0);
  const rows = daily.channels.map((c) => [paymentChannelWords[c] || c, (d) => d.cash[c] || 0, money.format.bind(money)]);
  rows.push(["All channels", (d) => d.cashTotal, money.format.bind(money)], ["Accounts placed with agencies", (d) => d.placed, String], ["Accounts recalled from agencies", (d) => d.recalled, String]);
  $("cash-table").tBodies[0].replaceChildren(...rows.map(([label, pick, format]) => row([[label], [format(sum(7, pick)), true], [format(sum(30, pick)), true], [format(sum(90, pick)), true]])));
}

const verdictWords = { allow: "Allowed", deny: "Refused", defer: "Deferred" };

function age(iso) {
  const hours = Math.max(0, (Date.now() - Date.parse(iso)) / 3600000);
  return hours < 48 ? `${Math.floor(hours)} h ago` : `${Math.floor(hours / 24)} days ago`;
}

async function compliance(facility) {
  const view = (await api("GET", facility ? `/api/compliance?facility=${encodeURIComponent(facility)}` : "/api/compliance")).json;
  const today = view.to;
  const week = new Date(Date.parse(`${today}T00:00:00Z`) - 6 * 86400000).toISOString().slice(0, 10);
  const rows = new Map();
  for (const d of view.decisions) {
    const key = `${d.verdict}|${d.rule}`;
    const r = rows.get(key) || { verdict: d.verdict, rule: d.rule, today: 0, week: 0, month: 0 };
    r.month += d.count;
    if (d.day >= week) r.week += d.count;
    if (d.day === today) r.today += d.count;
    rows.set(key, r);
  }
  const sorted = [...rows.values()].sort((a, b) => a.verdict.localeCompare(b.verdict) || b.month - a.month);
  $("decision-table").tBodies[0].replaceChildren(...(sorted.length === 0 ? [row([["No decisions in the last 30 days"], [""], [""], [""], [""]])]
    : sorted.map((r) => row([[verdictWords[r.verdict] || r.verdict], [r.rule], [String(r.today), true], [String(r.week), true], [String(r.month), true]]))));
  $("review-table").tBodies[0].replaceChildren(...view.reviewQueues.map((q) => row([
    [q.queue], [String(q.open), true], [q.oldestReceivedAt ? `${age(q.oldestReceivedAt)} (${new Date(q.oldestReceivedAt).toLocaleDateString()})` : "—"],
  ])));
}

async function queues(facility) {
  const all = (await api("GET", "/api/worklist/queues")).json;
  const shown = all.filter((q) => !facility || q.facility === facility || q.facility === "*").slice(0, 50);
  const stats = await Promise.all(shown.map((q) => api("GET", `/api/worklist/queues/${encodeURIComponent(q.queueId)}/stats`).then((r) => [q, r.json])));
  $("queue-table").tBodies[0].replaceChildren(...stats.map(([q, s]) => row([
    [q.name || q.queueId], [q.facility === "*" ? "all" : q.facility], [String(s.depth), true], [String(s.callableNow), true], [String(s.deferred), true], [String(s.leased), true],
    [s.oldestBalanceDate ? `since ${s.oldestBalanceDate}` : "—"],
  ])));
  const agents = new Map();
  for (const [, s] of stats) {
    for (const a of s.agents) {
      const tally = agents.get(a.agent) || { calls: 0, reached: 0, promises: 0, plans: 0, holding: [] };
      tally.calls += a.tally.calls;
      tally.reached += a.tally.reached;
      tally.promises += a.tally.promises;
      tally.plans += a.tally.plansRequested;
      if (a.leasedAccountNumber) tally.holding.push(`${a.leasedFacility} / ${a.leasedAccountNumber}`);
      agents.set(a.agent, tally);
    }
  }
  const calls = [...agents.values()].reduce((n, t) => n + t.calls, 0);
  const reached = [...agents.values()].reduce((n, t) => n + t.reached, 0);
  fill("rpc-rate", calls === 0 ? "No worklist calls in the last 24 hours."
    : `Right-party contact rate: ${percent(reached / calls)} (${reached} of ${calls} worklist calls reached the guarantor).`);
  return agents;
}

const handle = (seconds) => (seconds == null ? "—" : `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, "0")} s`);

// Each agent's work over the period chosen (from the reports), with what they hold now (from the queues).
async function agentPerformance(facility, holding) {
  const days = $("agent-period").value;
  const performance = (await api("GET", forFacility(`/api/kpis/agents?days=${days}`, facility))).json;
  fill("agent-period-words", `${performance.from} to ${performance.to} (UTC days); payments count for the agent who last spoke with the guarantor within ${performance.attributionDays} days before.`);
  const names = new Set([...performance.agents.map((a) => a.agent), ...holding.keys()]);
  const byAgent = new Map(performance.agents.map((a) => [a.agent, a]));
  const none = { calls: 0, inbound: 0, contacts: 0, rightPartyContactRate: null, promises: 0, promisesKept: 0, plans: 0, collectedAfterContact: 0, averageHandleSeconds: null };
  $("agent-table").tBodies[0].replaceChildren(...(names.size === 0 ? [row([["No agent worked in this period"], [""], [""], [""], [""], [""], [""], [""], [""], [""]])]
    : [...names].map((agent) => [agent, byAgent.get(agent) || none]).sort((x, y) => y[1].calls - x[1].calls).map(([agent, a]) => row([
      [agent], [String(a.calls), true], [String(a.inbound), true], [`${a.contacts} (${percent(a.rightPartyContactRate)})`, true], [String(a.promises), true],
      [String(a.promisesKept), true], [String(a.plans), true], [money.format(a.collectedAfterContact), true], [handle(a.averageHandleSeconds), true],
      [(holding.get(agent)?.holding || []).join(", ") || "—"],
    ]))));
}

async function showDashboard() {
  showProblem(null);
  const facility = $("dashboard-facility").value.trim();
  try {
    const kpis = (await api("GET", facility ? `/api/kpis?facility=${encodeURIComponent(facility)}` : "/api/kpis")).json;
    fill("kpi-as-of", kpis.asOf);
    fill("kpi-facility", facility || "all facilities");
    tiles(kpis);
    agingChart(kpis.aging);
    const [, , holding] = await Promise.all([trends(facility), compliance(facility), queues(facility)]);
    await agentPerformance(facility, holding);
  } catch (problem) {
    showProblem(problem);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("dashboard-form").addEventListener("submit", (event) => {
    event.preventDefault();
    showDashboard();
  });
  $("agent-period").addEventListener("change", () => showDashboard());
});
