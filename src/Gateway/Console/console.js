// The agents' console: sign in through the organisation's identity provider (authorization code with PKCE) or with
// an API key, take the next account from the worklist, see whom to call and why, record how the call went. Everything
// it shows comes from the same HTTP API (and the same audit trail) as any other client; the key or access token lives
// in sessionStorage, so closing the tab forgets it. Data is written with textContent only.
"use strict";

const keyName = "collections.apiKey";      // the API key or the identity provider's access token: both are bearer tokens
const pendingSignInName = "collections.signIn"; // { state, verifier } while the identity provider signs the person in
let sso = null;          // { authorizationEndpoint, tokenEndpoint, clientId, scope } when single sign-on is configured
const $ = (id) => document.getElementById(id);
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const outcomeWords = {
  noAnswer: "no answer", leftMessage: "left a message", wrongNumber: "wrong number", rightPartyContact: "spoke to the guarantor",
  promiseToPay: "promise to pay", paymentPlanRequested: "payment plan requested",
  financialAssistanceRequested: "financial assistance requested", dispute: "dispute",
};
let current = null;      // the account leased to this agent: { facility, accountNumber, queueId }
let pendingKey = null;   // the Idempotency-Key of an outcome not yet confirmed, reused if the agent presses again

function say(text) { $("message").textContent = text; }

function showProblem(problem) {
  const box = $("problem");
  box.replaceChildren();
  if (!problem) { box.hidden = true; return; }
  const title = document.createElement("strong");
  title.textContent = problem.title || "Something went wrong";
  box.append(title);
  const lines = (problem.errors || []).map((e) => (e.field ? `${e.field}: ` : "") + e.message);
  if (lines.length === 0 && problem.detail) lines.push(problem.detail);
  for (const line of lines) {
    const p = document.createElement("div");
    p.textContent = line;
    box.append(p);
  }
  box.hidden = false;
}

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { Authorization: `Bearer ${sessionStorage.getItem(keyName)}`, ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw { title: "The engine cannot be reached", detail: "Check your connection and try again." };
  }
  if (response.status === 401) {
    signOut();
    throw { title: "Your sign-in was not accepted", detail: "It may have expired or been revoked: sign in again." };
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw json || { title: `The engine answered ${response.status}` };
  return { status: response.status, json };
}

// The pages of the console, and the roles that may open each (the API enforces the same; this only hides buttons).
const views = {
  worklist: { panel: "work-panel", roles: ["agent", "supervisor", "admin"] },
  dashboard: { panel: "dashboard-panel", roles: ["supervisor", "admin"] },
  models: { panel: "models-panel", roles: ["data-team", "admin", "supervisor"] },
};
let session = null;      // { actor, name, role, landing } from /api/me

function signedIn(yes) {
  $("sign-in-panel").hidden = yes;
  $("signed-in").hidden = !yes;
  $("views").hidden = !yes;
  if (!yes) for (const view of Object.values(views)) $(view.panel).hidden = true;
}

function signOut() {
  sessionStorage.removeItem(keyName);
  current = null;
  session = null;
  $("account").hidden = true;
  signedIn(false);
}

// Each role lands on its own page: agents on the worklist, supervisors and administrators on the dashboard.
async function openLanding() {
  try {
    session = (await api("GET", "/api/me")).json;
  } catch (problem) {
    showProblem(problem);
    return;
  }
  fill("who", `as ${session.name || session.actor} (${session.role})`);
  for (const [name, view] of Object.entries(views)) $(`view-${name}`).hidden = !view.roles.includes(session.role);
  const asked = location.hash.slice(1);
  show(views[asked]?.roles.includes(session.role) ? asked : session.landing);
}

function show(name) {
  for (const [other, view] of Object.entries(views)) {
    $(view.panel).hidden = other !== name;
    $(`view-${other}`).setAttribute("aria-current", other === name ? "page" : "false");
  }
  if (views[name]) history.replaceState(null, "", `#${name}`);
  if (name === "dashboard") showDashboard();
  else if (name === "worklist") refreshTally();
  else if (name === "models") showModels();
  else if (!views[name]) say("Your role has no page in this console: ask an administrator for an agent, supervisor or data-team key.");
}

function phone(number) {
  const digits = String(number).replace(/\D/g, "");
  const us = digits.length === 11 && digits.startsWith("1") ? digits.slice(1) : digits;
  return us.length === 10 ? `(${us.slice(0, 3)}) ${us.slice(3, 6)}-${us.slice(6)}` : number;
}

function fill(id, text) { $(id).textContent = text ?? "—"; }

// A table row of [text, numeric?] cells, written with textContent (every page's tables use it).
function row(cells) {
  const tr = document.createElement("tr");
  for (const [text, numeric] of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    if (numeric) td.className = "num";
    tr.append(td);
  }
  return tr;
}

function list(id, items) {
  $(id).replaceChildren(...items.map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
}

// Shows an account on the card: one the worklist leased to the agent (offer), or one found for a caller (inbound).
async function showAccount(offer, inbound = false) {
  current = { facility: offer.facility, accountNumber: offer.accountNumber, queueId: offer.queueId, inbound };
  pendingKey = null;
  paymentKey = null;
  noteKey = null;
  $("new-note").value = "";
  $("outcome-form").reset();
  $("payment-form").reset();
  $("payment-reference-field").hidden = true;
  fill("payment-status", "");
  toggleOutcomeFields();
  for (const value of ["noAnswer", "leftMessage"]) document.querySelector(`input[name="outcome"][value="${value}"]`).closest("label").hidden = inbound;
  $("release").textContent = inbound ? "Close without recording" : "Give it back";
  $("lease").hidden = inbound;
  $("inbound-label").hidden = !inbound;
  fill("account-facility", offer.facility);
  fill("account-number", offer.accountNumber);
  if (offer.leaseExpiresAt) {
    $("lease-expires").dateTime = offer.leaseExpiresAt;
    fill("lease-expires", new Date(offer.leaseExpiresAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  }
  fill("patient-balance", money.format(offer.patientBalance));
  fill("probability", offer.probability == null ? "not scored" : `${Math.round(offer.probability * 100)} %`);
  fill("expected-recovery", money.format(offer.expectedRecovery));
  fill("model-version", offer.modelVersion);
  list("reasons", offer.reasons.map((r) => `${r.effect >= 0 ? "▲" : "▼"} ${r.text}`));

  const path = accountPath();
  const card = current; // the agent may move to another card before these answers come
  const [account, guarantor] = await Promise.all([
    offer.account ? Promise.resolve(offer.account) : api("GET", path).then((r) => r.json),
    api("GET", `/api/guarantors/${encodeURIComponent(offer.guarantorId)}`).then((r) => r.json),
  ]);
  if (current !== card) return;
  const profile = guarantor.profile || {};
  fill("guarantor-name", [profile.firstName, profile.lastName].filter(Boolean).join(" "));
  list("guarantor-phones", (profile.phones || []).map((p) => `${phone(p.number)}${p.type ? ` (${p.type})` : ""}`));
  fill("guarantor-language", profile.preferredLanguage || "en");
  fill("guarantor-zone", profile.timeZone?.zone ?? profile.timeZone?.plausibleZones?.join(" or "));
  showReach(profile, guarantor, path);
  showConsents(guarantor.consents || []);
  showHolds([...(account.holds || []), ...(guarantor.holds || [])]);
  showContacts(guarantor.recentContacts || []);
  showOtherAccounts(guarantor.accounts || [], offer, card);
  showLedger(account);
  api("GET", `${path}/notes`).then((r) => showNotes(r.json)).catch(showProblem);
  $("account").hidden = false;
}

function showNotes(notes) {
  list("notes", notes.length === 0 ? ["No notes yet."] : [...notes].reverse().map((n) => `${when(n.writtenAt)}, ${n.writtenBy}: ${n.text}`));
}

// A note on the account, once per key even if the agent presses twice or the answer is lost.
let noteKey = null;

async function addNote(event) {
  event.preventDefault();
  if (!current) return;
  showProblem(null);
  noteKey ??= crypto.randomUUID();
  const path = `${accountPath()}/notes`; // the account of this card, even if the agent moves on meanwhile
  const text = $("new-note").value;
  $("add-note").disabled = true;
  try {
    await api("POST", path, { text }, { "Idempotency-Key": noteKey });
    noteKey = null;
    if ($("new-note").value === text) $("new-note").value = "";
    if (current && `${accountPath()}/notes` === path) showNotes((await api("GET", path)).json);
  } catch (problem) {
    if (problem.code === "idempotency-key.reused") noteKey = null;
    showProblem(problem);
  } finally {
    $("add-note").disabled = false;
  }
}

function accountPath() {
  return `/api/accounts/${encodeURIComponent(current.facility)}/${encodeURIComponent(current.accountNumber)}`;
}

// The guarantor's accounts, each with what the patient owes on it (read one by one, each read audited as the card's).
function showOtherAccounts(accounts, offer, shown) {
  const label = (a) => `${a.facility} / ${a.accountNumber}${a.facility === offer.facility && a.accountNumber === offer.accountNumber ? " (this call)" : ""}`;
  list("other-accounts", accounts.map(label));
  accounts.forEach((a, i) => {
    api("GET", `/api/accounts/${encodeURIComponent(a.facility)}/${encodeURIComponent(a.accountNumber)}`)
      .then((r) => {
        if (current !== shown) return;
        const item = $("other-accounts").children[i];
        if (item && r.json?.balances) item.textContent = `${label(a)}: owes ${money.format(r.json.balances.patientResponsibility)}`;
      })
      .catch(() => {}); // the list still names the account
  });
}

// Ledger entry kinds in words.
const entryKinds = {
  charge: "Charge", insurancePayment: "Insurance payment", patientPayment: "Patient payment", adjustment: "Adjustment",
  transfer: "Transfer", refund: "Refund", reversal: "Reversal",
};

function showLedger(account) {
  fill("aging", account.aging ? agingText(account.aging) : null);
  fill("oldest-service", oldestService(account.entries));
  fill("cadence-status", account.cadence ? account.cadence.status : "idle");
  fill("patient-balance", money.format(account.balances.patientResponsibility));
  const rows = account.entries.slice(-8).reverse().map((e) =>
    row([[e.effectiveDate], [entryKinds[e.kind] ?? e.kind], [e.description || e.note || e.code || ""], [money.format(e.amount), true]]));
  $("ledger").tBodies[0].replaceChildren(...rows);
}

// An account found for someone calling in: the card without a lease, the call recorded as inbound.
async function openForCaller(facility, accountNumber) {
  showProblem(null);
  say("");
  try {
    const account = (await api("GET", `/api/accounts/${encodeURIComponent(facility)}/${encodeURIComponent(accountNumber)}`)).json;
    await showAccount({
      facility, accountNumber, guarantorId: account.guarantorId, queueId: null, leaseExpiresAt: null, account,
      patientBalance: account.balances.patientResponsibility, probability: account.score?.probability ?? null,
      expectedRecovery: account.score?.expectedRecovery ?? 0, modelVersion: account.score?.modelVersion ?? null, reasons: account.score?.reasons ?? [],
    }, true);
    $("inbound").open = false;
  } catch (problem) {
    showProblem(problem);
  }
}

async function findCaller(event) {
  event.preventDefault();
  showProblem(null);
  const phoneNumber = $("caller-phone").value.trim();
  const facility = $("caller-facility").value.trim();
  const accountNumber = $("caller-account").value.trim();
  const lastName = $("caller-last-name").value.trim();
  const birthDate = $("caller-birth-date").value;
  // Every box filled goes to the search, which answers one way only and says so when two are mixed.
  const fields = [["phone", phoneNumber], ["facility", facility], ["accountNumber", accountNumber], ["lastName", lastName], ["dateOfBirth", birthDate]];
  const given = fields.filter(([, value]) => value);
  const query = given.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join("&");
  try {
    const callers = (await api("GET", `/api/worklist/callers?${query}`)).json;
    $("callers").replaceChildren(...callers.map((c) => {
      const li = document.createElement("li");
      const who = document.createElement("p");
      who.textContent = `${c.firstName} ${c.lastName}, born ${c.dateOfBirth}, ${c.city} ${c.state}`;
      li.append(who);
      for (const a of c.accounts) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "secondary";
        button.textContent = `${a.facility} / ${a.accountNumber}: owes ${money.format(a.patientBalance)}${a.onHold ? " (on hold)" : ""}`;
        button.addEventListener("click", () => openForCaller(a.facility, a.accountNumber));
        li.append(button);
      }
      return li;
    }));
    say(callers.length === 0 ? "Nobody matches: check what you typed, or ask for the account number on their statement." : "");
  } catch (problem) {
    showProblem(problem);
  }
}

// A payment taken on the call: a card through the processor's hosted page (opened in a new tab), or a check or cash
// recorded on the ledger. One Idempotency-Key per payment, kept until it is confirmed, so pressing again never takes two.
let paymentKey = null;

async function takePayment(event) {
  event.preventDefault();
  if (!current) return;
  showProblem(null);
  const amount = Number($("payment-amount").value);
  const method = $("payment-method").value;
  paymentKey ??= crypto.randomUUID();
  const headers = { "Idempotency-Key": paymentKey };
  try {
    if (method === "card") {
      const payment = (await api("POST", `${accountPath()}/card-payments`, { amount }, headers)).json;
      if (payment.checkoutUrl) window.open(payment.checkoutUrl, "_blank", "noopener");
      fill("payment-status", `The processor's page is open in a new tab: key the card in there. Waiting for the processor to confirm ${money.format(payment.amount)}…`);
      await followCardPayment(payment.paymentId, { ...current });
    } else {
      const reference = $("payment-reference").value.trim();
      await api("POST", `${accountPath()}/entries`, { kind: "patientPayment", amount, method, reference: reference || null, channel: "agent", note: "Taken on a call" }, headers);
      fill("payment-status", `Recorded a ${method} payment of ${money.format(amount)}.`);
      paymentKey = null;
      showLedger((await api("GET", accountPath())).json);
    }
  } catch (problem) {
    if (problem.code === "idempotency-key.reused") paymentKey = null; // that key took another amount: the next press is a new payment
    showProblem(problem);
  }
}

async function followCardPayment(paymentId, on) {
  let declined = false;
  for (let i = 0; i < 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    if (current?.accountNumber !== on.accountNumber || current?.facility !== on.facility) return; // the agent moved on
    const payment = (await api("GET", `/api/payments/${encodeURIComponent(paymentId)}`)).json;
    if (payment.status === "succeeded") {
      fill("payment-status", `Card payment of ${money.format(payment.amount)} accepted (${payment.cardBrand || "card"} ending ${payment.cardLast4 || "····"}). The patient gets a receipt.`);
      paymentKey = null;
      showLedger((await api("GET", accountPath())).json);
      return;
    }
    if (payment.status === "failed" && !declined) {
      // The processor's page stays open: another card can be tried there, on the same payment. Keep following it.
      declined = true;
      fill("payment-status", `The card was declined (${payment.failureCode || "no reason given"}). The patient can give another card on the same processor page; this page keeps watching.`);
    }
  }
  fill("payment-status", "The processor has not confirmed the payment yet: look at the account's ledger later. Use Take payment again only for a new payment.");
}

const channelWords = { email: "Email", sms: "Text", mail: "Mail", voice: "Call", automatedVoice: "Automated call" };
const contactOutcomeWords = {
  attempted: "sent", noAnswer: "no answer", leftMessage: "left a message", rightPartyContact: "spoke to the guarantor", wrongNumber: "wrong number",
};
const actionWords = {
  patientStatement: "statement", emailReminder: "email reminder", smsReminder: "text reminder", letter: "letter", callTask: "call",
  finalNotice: "final notice", agencyPlacement: "agency placement", creditReporting: "credit reporting", writeOffReview: "write-off review",
  installmentReminder: "plan reminder", optOutConfirmation: "opt-out confirmation", paymentReceipt: "receipt",
};
const holdWords = {
  dispute: "Disputes the bill", ceaseCommunication: "Asked us to stop contact", attorney: "Represented by an attorney", bankruptcy: "Bankruptcy",
  deceased: "Deceased", insurancePending: "Waiting for insurance", financialAssistancePending: "Financial assistance pending",
  patientProviderDispute: "Disputes the care or the charge", manual: "On hold",
};
const when = (iso) => new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });

function address(a) {
  if (!a) return null;
  return [a.line1, a.line2, [a.city, a.state].filter(Boolean).join(", ") + (a.zip ? ` ${a.zip}` : "")].filter(Boolean).join(" · ");
}

// Whether the agent may dial now: the compliance gate's answer (nothing is recorded by asking).
async function showReach(profile, guarantor, path) {
  fill("guarantor-address", address(profile.address) ?? "No mailing address");
  fill("guarantor-email", profile.email ?? "No email address");
  const rep = guarantor.representative;
  $("representative").hidden = !rep;
  if (rep) fill("representative", `Contact goes to ${rep.name}${rep.organization ? `, ${rep.organization}` : ""} (${rep.kind === "estate" ? "the estate" : "attorney"})${rep.phone ? `, ${phone(rep.phone)}` : ""}`);
  fill("call-now", "Checking whether you may call now…");
  try {
    await api("GET", `${path}/calls/check`);
    fill("call-now", "You may call now.");
  } catch (problem) {
    const from = problem.notBefore ? ` You may call from ${when(problem.notBefore)}.` : "";
    fill("call-now", `Do not call now: ${problem.detail || problem.title}.${from}`.replace("..", "."));
  }
}

function showConsents(consents) {
  list("consents", consents.length === 0 ? ["Nothing recorded: texts and automated calls need consent first"]
    : consents.map((c) => `${channelWords[c.channel] || c.channel}: ${c.status === "granted" ? "agreed" : "opted out"} on ${when(c.recordedAt)} (${c.source})`));
}

function showHolds(holds) {
  const open = holds.filter((h) => !h.releasedAt);
  list("holds", open.length === 0 ? ["None"] : open.map((h) => `${holdWords[h.reason] || h.reason} since ${when(h.placedAt)}${h.note ? `: ${h.note}` : ""}`));
}

function showContacts(contacts) {
  const rows = contacts.slice(0, 15).map((c) => row([[when(c.at)], [`${c.account.facility} / ${c.account.accountNumber}`],
    [actionWords[c.action] || c.action], [channelWords[c.channel] || c.channel || "—"],
    [(contactOutcomeWords[c.outcome] || c.outcome) + (c.initiator === "inbound" ? " (they called us)" : "") + (c.ruleBroken ? ` — broke ${c.ruleBroken}` : "")]]));
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 5;
    td.textContent = "No contact recorded yet.";
    tr.append(td);
    rows.push(tr);
  }
  $("contacts").tBodies[0].replaceChildren(...rows);
}

const agingBasisWords = {
  firstPatientStatement: "since the first statement",
  serviceDate: "since the earliest service (no statement yet)",
  opened: "since the account was opened (no charge yet)",
};

function daysText(n) { return n === 1 ? "1 day" : `${n} days`; }

function agingText(aging) {
  return `${daysText(aging.days)} ${agingBasisWords[aging.basis] || ""} on ${aging.basisDate} (bucket ${aging.bucket})`;
}

function oldestService(entries) {
  const dates = entries.filter((e) => e.kind === "charge" && e.serviceDate).map((e) => e.serviceDate).sort();
  if (dates.length === 0) return null;
  const now = new Date(); // calendar days in the agent's own calendar
  const today = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
  const days = Math.max(0, Math.round((today - Date.parse(`${dates[0]}T00:00:00Z`)) / 86400000));
  return `${dates[0]} (${daysText(days)} ago)`;
}

async function next(event) {
  event.preventDefault();
  showProblem(null);
  const queueId = $("queue-id").value.trim();
  try {
    const { status, json } = await api("POST", "/api/worklist/next", queueId ? { queueId } : {});
    if (status === 204) {
      current = null;
      $("account").hidden = true;
      say("Nobody to call right now: every account is called, deferred by the compliance rules, or with another agent.");
      return;
    }
    say(json.reoffered ? "You already had this account: it is still yours." : "");
    await showAccount(json);
  } catch (problem) {
    showProblem(problem);
  }
}

// The agent's own day so far, counted by the worklist from the outcomes they recorded (no patient data).
async function refreshTally() {
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  try {
    const t = (await api("GET", `/api/worklist/tally?since=${encodeURIComponent(start.toISOString())}`)).json;
    const inbound = t.inboundCalls ? ` ${t.inboundCalls} inbound ${t.inboundCalls === 1 ? "call" : "calls"} taken.` : "";
    const collected = t.collectedAfterContact ? ` ${money.format(t.collectedAfterContact)} paid after your conversations.` : "";
    fill("tally", `Today: ${t.calls} ${t.calls === 1 ? "call" : "calls"}, ${t.reached} reached the guarantor, ${t.promises} ${t.promises === 1 ? "promise" : "promises"}, ${t.plansRequested} plans asked for.${inbound}${collected}`);
  } catch {
    fill("tally", ""); // the tally is a help, not a reason to stop work
  }
}

// Single-key shortcuts (WCAG 2.1.4: they can be turned off, and never fire while typing in a field).
function shortcut(event) {
  if (!$("shortcuts").checked || $("work-panel").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.matches("input:not([type=radio]):not([type=checkbox]), textarea, select")) return;
  const outcomes = [...document.querySelectorAll('input[name="outcome"]')].filter((r) => !r.closest("label").hidden); // the order shown
  if (/^[1-8]$/.test(event.key) && !$("account").hidden && Number(event.key) <= outcomes.length) {
    const chosen = outcomes[Number(event.key) - 1];
    chosen.checked = true;
    chosen.focus();
    toggleOutcomeFields();
    event.preventDefault();
  } else if (event.key.toLowerCase() === "n" && $("account").hidden) {
    $("next").click();
    event.preventDefault();
  }
}

function toggleOutcomeFields() {
  const chosen = document.querySelector('input[name="outcome"]:checked')?.value;
  $("promise-fields").hidden = chosen !== "promiseToPay";
  $("note-fields").hidden = !["dispute", "financialAssistanceRequested"].includes(chosen);
}

async function record(event) {
  event.preventDefault();
  if (!current) return;
  showProblem(null);
  const outcome = document.querySelector('input[name="outcome"]:checked')?.value;
  const body = { outcome, queueId: current.queueId };
  if (outcome === "promiseToPay") {
    body.amount = $("promise-amount").value === "" ? null : Number($("promise-amount").value);
    body.promisedDate = $("promise-date").value || null;
  }
  if (!$("note-fields").hidden && $("note").value.trim()) body.note = $("note").value.trim();
  pendingKey ??= crypto.randomUUID();
  if (current.inbound) body.initiator = "inbound";
  const path = current.inbound
    ? `${accountPath()}/calls/outcome`
    : `/api/worklist/leases/${encodeURIComponent(current.facility)}/${encodeURIComponent(current.accountNumber)}/outcome`;
  try {
    await api("POST", path, body, { "Idempotency-Key": pendingKey });
    say(`Recorded ${outcomeWords[outcome]} on ${current.facility} / ${current.accountNumber}.`);
    refreshTally();
    current = null;
    pendingKey = null;
    $("account").hidden = true;
  } catch (problem) {
    // The key already recorded another answer: the account shows it; pressing again records a new call.
    if (problem.code === "idempotency-key.reused") pendingKey = null;
    showProblem(problem);
  }
}

async function release() {
  if (!current) return;
  showProblem(null);
  if (current.inbound) {
    current = null;
    $("account").hidden = true;
    return;
  }
  const path = `/api/worklist/leases/${encodeURIComponent(current.facility)}/${encodeURIComponent(current.accountNumber)}`;
  try {
    await api("DELETE", `${path}?queueId=${encodeURIComponent(current.queueId)}`);
    say(`Gave ${current.facility} / ${current.accountNumber} back to the queue.`);
    current = null;
    $("account").hidden = true;
  } catch (problem) {
    showProblem(problem);
  }
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const randomText = () => base64url(crypto.getRandomValues(new Uint8Array(32)));
const redirectUri = () => `${location.origin}/console`;

// Authorization code with PKCE (RFC 7636): the verifier stays in this tab; the provider sees only its SHA-256.
async function startSingleSignOn() {
  const verifier = randomText();
  const state = randomText();
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  sessionStorage.setItem(pendingSignInName, JSON.stringify({ state, verifier }));
  const url = new URL(sso.authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: "code", client_id: sso.clientId, redirect_uri: redirectUri(), scope: sso.scope,
    state, code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(url);
}

// Back from the provider with ?code&state (or ?error): the code is exchanged for an access token at its token endpoint.
async function finishSingleSignOn(params) {
  history.replaceState(null, "", "/console");
  const pending = JSON.parse(sessionStorage.getItem(pendingSignInName) || "null");
  sessionStorage.removeItem(pendingSignInName);
  // The state first: an answer this tab did not ask for (a crafted link) shows none of its own text.
  if (!pending || pending.state !== params.get("state")) {
    throw { title: "Sign-in did not complete", detail: "The identity provider's answer was not for this tab: sign in again." };
  }
  if (params.has("error")) {
    throw { title: "Your organisation did not sign you in", detail: params.get("error_description") || params.get("error") };
  }
  let response;
  try {
    response = await fetch(sso.tokenEndpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code", code: params.get("code"), redirect_uri: redirectUri(),
        client_id: sso.clientId, code_verifier: pending.verifier,
      }),
    });
  } catch {
    throw { title: "The identity provider cannot be reached", detail: "Check your connection and sign in again." };
  }
  const json = await response.json().catch(() => ({}));
  if (!response.ok || !json.access_token) {
    throw { title: "Sign-in did not complete", detail: json.error_description || json.error || `The identity provider answered ${response.status}.` };
  }
  sessionStorage.setItem(keyName, json.access_token);
}

async function loadSignInOptions() {
  try {
    const response = await fetch("/console/sign-in");
    const options = response.ok ? await response.json() : null;
    if (options?.singleSignOn) sso = options;
  } catch {
    // API keys still work without the identity provider.
  }
  $("sso").hidden = !sso;
  const params = new URLSearchParams(location.search);
  if (sso && (params.has("code") || params.has("error"))) {
    try {
      await finishSingleSignOn(params);
      say("Signed in.");
    } catch (problem) {
      showProblem(problem);
    }
  }
  signedIn(!!sessionStorage.getItem(keyName));
  if (sessionStorage.getItem(keyName)) await openLanding();
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(keyName, $("api-key").value.trim());
    $("api-key").value = "";
    $("api-key").blur(); // the field is hidden now: leave the keyboard to the page (its shortcuts)
    showProblem(null);
    say("");
    signedIn(true);
    openLanding();
  });
  for (const button of document.querySelectorAll("button.view")) button.addEventListener("click", () => { showProblem(null); say(""); show(button.dataset.view); });
  $("sign-out").addEventListener("click", () => { signOut(); say("Signed out."); });
  $("next-form").addEventListener("submit", next);
  $("outcome-form").addEventListener("submit", record);
  $("outcome-form").addEventListener("change", toggleOutcomeFields);
  $("release").addEventListener("click", release);
  document.addEventListener("keydown", shortcut);
  $("caller-form").addEventListener("submit", findCaller);
  $("payment-form").addEventListener("submit", takePayment);
  $("note-form").addEventListener("submit", addNote);
  $("new-note").addEventListener("input", () => { noteKey = null; }); // other words: another note
  $("payment-method").addEventListener("change", () => { $("payment-reference-field").hidden = $("payment-method").value !== "check"; });
  $("sso-sign-in").addEventListener("click", () => startSingleSignOn().catch(showProblem));
  signedIn(!!sessionStorage.getItem(keyName));
  loadSignInOptions();
});
