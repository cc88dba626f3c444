// The data team's page: registered scoring models with their figures, which is champion and which challenger, one
// version's chart and how far live scores drifted from its test set, outcomes per version on real accounts, and (for
// the data team and administrators) promote and roll back with a reason. Shares api, $, fill, row, say and showProblem
// with console.js; the chart is fetched with the caller's key and shown from a blob: URL.
"use strict";

const canManageModels = () => ["data-team", "admin"].includes(session?.role);
const fixed = (v, digits = 3) => (v == null || Number.isNaN(Number(v)) ? "—" : Number(v).toFixed(digits));
const share = (v) => (v == null ? "—" : `${(Number(v) * 100).toFixed(1)} %`);
let chartUrl = null;

async function showModels() {
  showProblem(null);
  $("model-change").hidden = !canManageModels();
  try {
    const registry = (await api("GET", "/api/models")).json;
    const { champion, challenger, challengerShare } = registry.assignment;
    fill("champion", champion || "none (the built-in model)");
    fill("challenger", challenger ? `${challenger} on ${share(challengerShare)} of accounts` : "none");
    const rows = [...registry.versions].reverse().map((v) => {
      const role = v.version === champion ? "champion" : v.version === challenger ? "challenger" : "";
      const tr = row([[v.version], [role], [`${new Date(v.registeredAt).toLocaleDateString()} by ${v.registeredBy}`], [fixed(v.auc), true], [fixed(v.brier), true],
        [v.labelDefinition || "—"], [v.notes || ""]]);
      const actions = document.createElement("td");
      const look = document.createElement("button");
      look.type = "button";
      look.className = "secondary";
      look.textContent = "Details";
      look.addEventListener("click", () => showVersion(v.version));
      actions.append(look);
      if (canManageModels() && role !== "champion") {
        const promote = document.createElement("button");
        promote.type = "button";
        promote.textContent = "Make champion";
        promote.addEventListener("click", () => change(`/api/models/${encodeURIComponent(v.version)}/promote`, `${v.version} is the champion now.`));
        actions.append(" ", promote);
      }
      tr.append(actions);
      return tr;
    });
    if (rows.length === 0) rows.push(row([["No version is registered yet: the engine scores with its built-in model. Register one with collections model register."]]));
    $("model-table").tBodies[0].replaceChildren(...rows);
    const outcomes = (await api("GET", "/api/models/comparison")).json;
    $("outcome-table").tBodies[0].replaceChildren(...outcomes.map((o) => row([
      [o.version], [o.role], [String(o.accountsScored), true], [share(o.meanProbability), true], [String(o.windowsEnded), true],
      [share(o.predictedRate), true], [share(o.observedRate), true], [fixed(o.auc), true],
    ])));
    const first = champion || registry.versions[registry.versions.length - 1]?.version;
    if (first) await showVersion(first);
  } catch (problem) {
    showProblem(problem);
  }
  // Each report on its own: one that fails leaves the rest of the page as it is.
  for (const report of [showUplift, showFairness]) {
    try {
      await report();
    } catch (problem) {
      showProblem(problem);
    }
  }
}

// Treated against control accounts per policy, step reached and score band: the differences with their 95 % intervals.
async function showUplift() {
  const uplift = (await api("GET", "/api/models/uplift")).json;
  const cash = (v) => (v == null ? "—" : money.format(v));
  const signed = (v, format) => (v >= 0 ? "+" : "−") + format(Math.abs(v));
  const interval = (d, format) => (d == null ? "—" : `${signed(d.estimate, format)} (${signed(d.low, format)} to ${signed(d.high, format)})`);
  const readings = { adds: "adds: pays more than the baseline", costs: "costs: pays less than the baseline", unclear: "unclear: the interval spans zero", "too few": "too few accounts to tell" };
  const kinds = { all: "All accounts", policy: "Policy", step: "Step reached", scoreBand: "Score band" };
  const controlled = uplift.segments.find((s) => s.kind === "all")?.control.accounts ?? 0;
  fill("uplift-summary", uplift.accounts === 0 || controlled === 0
    ? "No account is in a control group yet: give a policy a control share (controlShare, up to 0.5) to measure what its calls, texts and letters add over its baseline."
    : `${uplift.accounts === 1 ? "1 account" : `${uplift.accounts} accounts`} under policies with a control group, ${controlled} in control`
      + (uplift.withoutControlGroup > 0 ? ` (${uplift.withoutControlGroup} more under policies without one are not compared)` : "")
      + `. Dollars and payments since assignment; intervals at ${Math.round(uplift.confidence * 100)} %; a group under ${uplift.minimumAccounts} accounts shows its count only. `
      + "A later step compares the accounts still unpaid when it came, so read its row as indicative.");
  $("uplift-table").tBodies[0].replaceChildren(...uplift.segments.map((s) => row([
    [s.kind === "all" ? kinds.all : `${kinds[s.kind] ?? s.kind}: ${s.name}`], [String(s.treated.accounts), true], [String(s.control.accounts), true],
    [share(s.treated.paymentRate), true], [share(s.control.paymentRate), true], [interval(s.rateDifference, share), true],
    [cash(s.treated.dollarsPerAccount), true], [cash(s.control.dollarsPerAccount), true], [interval(s.dollarsDifference, cash), true],
    [cash(s.incrementalDollars), true], [readings[s.verdict] ?? s.verdict],
  ])));
}

// Each language and ZIP income band against the portfolio: mean score and outreach, flagged beyond the settings.
async function showFairness() {
  const { summary, incomeTable } = (await api("GET", "/api/models/fairness")).json;
  const o = summary.options;
  const flagged = summary.groups.filter((g) => g.flagged).length;
  fill("fairness-summary", summary.accounts === 0
    ? "No account has been through a cadence run yet."
    : `${summary.accounts === 1 ? "1 account" : `${summary.accounts} accounts`}: mean score ${fixed(summary.meanScore)}, ${share(summary.contactedShare)} contacted beyond statements. `
      + `Flagged: a mean score more than ${o.scoreGap} from the portfolio's, or a contacted share under ${o.contactRatio} or over ${(1 / o.contactRatio).toFixed(2)} times the portfolio's `
      + `(${flagged === 0 ? "no group is" : flagged === 1 ? "1 group is" : `${flagged} groups are`}). Groups under ${o.minimumAccounts} accounts are merged, unnamed and without figures. `
      + (incomeTable ? `Income bands from ${incomeTable}.` : "No ZIP income table is configured (Collections:Fairness:ZipIncomeFile): every income band is unknown."));
  const dimension = { language: "Language", incomeBand: "Income band" };
  $("fairness-table").tBodies[0].replaceChildren(...summary.groups.map((g) => {
    const tr = row([
      [`${dimension[g.dimension] ?? g.dimension}: ${g.group}`], [g.accounts == null ? "—" : String(g.accounts), true],
      [fixed(g.meanScore), true], [g.scoreDifference == null ? "—" : (g.scoreDifference >= 0 ? "+" : "−") + Math.abs(g.scoreDifference).toFixed(3), true],
      [share(g.contactedShare), true], [fixed(g.contactRatio, 2), true], [fixed(g.contactsPerAccount, 2), true], [fixed(g.callsPerAccount, 2), true],
      [g.flagged ? `Flagged: ${g.reasons.join("; ")}` : ""],
    ]);
    if (g.flagged) tr.classList.add("flagged");
    return tr;
  }));
}

async function showVersion(version) {
  try {
    const detail = (await api("GET", `/api/models/${encodeURIComponent(version)}`)).json;
    const report = detail.report || {};
    fill("detail-version", version);
    fill("detail-summary", `${report.learner || "model"} · trained on ${report.trainRows ?? "?"} rows, tested on ${report.testRows ?? "?"} · `
      + `AUC ${fixed(report.auc)}, Brier ${fixed(report.brier)} · ${report.labelDefinition || ""}`);
    await showChart(version);
    const drift = (await api("GET", `/api/models/${encodeURIComponent(version)}/drift`)).json;
    fill("drift-summary", drift.psi == null
      ? `No live scores from this version yet (its test set has ${drift.testSetScores}).`
      : `Population stability index ${drift.psi.toFixed(3)} over ${drift.liveScores} live accounts: `
        + (drift.flagged ? `above ${drift.threshold}, the scores have shifted; consider retraining.` : `at most ${drift.threshold}, stable.`));
    $("drift-table").tBodies[0].replaceChildren(...drift.bins.map((b) => row([
      [`${(b.lower * 100).toFixed(0)}–${(b.upper * 100).toFixed(0)} %`], [share(b.expectedShare), true], [share(b.liveShare), true],
    ])));
    const flagged = drift.features.filter((f) => f.flagged).length;
    fill("feature-drift-summary", drift.features.length === 0
      ? "No feature comparison yet: the version's report has no training profile (trained before profiles were kept), or no live account was scored by it."
      : `${drift.liveFeatureRows} live accounts' features against the training rows: ${flagged === 0 ? "no feature" : flagged === 1 ? "1 feature" : `${flagged} features`} above ${drift.threshold}. The ten that moved most:`);
    $("feature-drift-table").tBodies[0].replaceChildren(...drift.features.slice(0, 10).map((f) => row([
      [f.feature], [f.psi.toFixed(3), true], [f.flagged ? "shifted" : "stable"],
    ])));
    $("model-detail").hidden = false;
  } catch (problem) {
    showProblem(problem);
  }
}

async function showChart(version) {
  const image = $("model-chart");
  image.hidden = true;
  const response = await fetch(`/api/models/${encodeURIComponent(version)}/chart`, { headers: { Authorization: `Bearer ${sessionStorage.getItem(keyName)}` } });
  if (!response.ok) return; // a version registered without its chart
  if (chartUrl) URL.revokeObjectURL(chartUrl);
  chartUrl = URL.createObjectURL(await response.blob());
  image.alt = `Calibration and lift chart of ${version}`;
  image.src = chartUrl;
  image.hidden = false;
}

async function change(path, done) {
  showProblem(null);
  const reason = $("change-reason").value.trim();
  if (!reason) {
    showProblem({ title: "Say why", detail: "Write the reason for the change; it is kept in the model's history." });
    return;
  }
  try {
    await api("POST", path, { reason });
    say(done);
    $("change-reason").value = "";
    await showModels();
  } catch (problem) {
    showProblem(problem);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("rollback").addEventListener("click", () => change("/api/models/rollback", "The previous champion is back."));
});
