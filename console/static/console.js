// The console's only script: the abort dialog and the live campaign timeline.
// Everything from the server is put in with textContent, never parsed as markup.
"use strict";

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function clock(iso) {
  return iso ? new Date(iso).toISOString().slice(11, 19) + " UTC" : "now";
}

// An end may be days away (the next window long enough): then its date too.
function moment(iso) {
  const text = new Date(iso).toISOString();
  const today = new Date().toISOString().slice(0, 10);
  return (text.slice(0, 10) === today ? "" : text.slice(0, 10) + " ") + clock(iso);
}

function minutesApart(later, earlier) {
  const minutes = Math.round((Date.parse(later) - Date.parse(earlier)) / 60000);
  if (minutes === 0) return "on time";
  return Math.abs(minutes) + " min " + (minutes > 0 ? "later" : "earlier") + " than planned";
}

// Predicted end next to the actual one (domain/eta.py says how it is predicted).
function hostEnds(host) {
  if (host.actual_end) {
    const text = "ended " + moment(host.actual_end);
    return host.predicted_end ? text + " (predicted " + moment(host.predicted_end) + ")" : text;
  }
  return host.predicted_end ? "predicted end " + moment(host.predicted_end) : "";
}

function renderEnds(snapshot) {
  const c = snapshot.campaign;
  const parts = [];
  if (c.planned_end) parts.push("planned end " + moment(c.planned_end) + " (from its start)");
  if (c.predicted_end) parts.push("predicted end " + moment(c.predicted_end));
  if (c.actual_end) {
    parts.push("actual end " + moment(c.actual_end) + (c.planned_end ? ", " + minutesApart(c.actual_end, c.planned_end) : ""));
  }
  if (c.never && c.never.length) parts.push("no window long enough for " + c.never.join(", "));
  const line = document.getElementById("campaign-ends");
  line.hidden = !parts.length;
  line.textContent = parts.length ? parts.join(" · ").replace(/^./, (first) => first.toUpperCase()) : "";
}

function setupAbortDialog() {
  const dialog = document.getElementById("abort-dialog");
  const open = document.getElementById("abort");
  if (!dialog || !open) return;
  open.addEventListener("click", () => {
    dialog.showModal();
    document.getElementById("abort-reason-input").focus();
  });
  document.getElementById("abort-cancel").addEventListener("click", () => {
    dialog.close();
    open.focus();
  });
}

function renderClusters(snapshot) {
  const list = document.getElementById("clusters");
  list.replaceChildren();
  if (!snapshot.clusters.length) {
    list.append(el("li", {}, snapshot.campaign.final ? "The campaign has ended." : "No cluster rollout is running."));
  }
  for (const cluster of snapshot.clusters) {
    const item = el("li", { "data-cluster": cluster.name });
    item.append(el("strong", {}, cluster.name), " " + (cluster.state || ""));
    item.append(el("span", { class: "capacity" },
      `capacity: ${cluster.updating} of ${cluster.allowed} updating at once, at least ${cluster.min_online} hosts stay online`));
    const shown = (snapshot.windows || {})[cluster.name];
    if (shown) {
      const open = shown.filter((w) => Date.parse(w.end) > Date.now()).slice(0, 2);
      item.append(el("span", { class: "windows" }, open.length
        ? open.map((w) => w.label).join("; ") : "no maintenance window ahead"));
    }
    if (cluster.waiting_reason) item.append(el("span", { class: "wait" }, "waits: " + cluster.waiting_reason));
    list.append(item);
  }
}

function span(snapshot) {
  const starts = [];
  for (const host of snapshot.hosts) for (const s of host.segments) starts.push(Date.parse(s.start));
  const begin = Date.parse(snapshot.campaign.started_at) || Math.min(...starts, Date.now());
  const end = Date.parse(snapshot.campaign.finished_at) || Date.now();
  return [begin, Math.max(end, begin + 1000)];
}

function renderTimeline(snapshot) {
  const table = document.getElementById("timeline");
  const [begin, end] = span(snapshot);
  const scale = (t) => Math.min(100, Math.max(0, ((t - begin) / (end - begin)) * 100));
  table.replaceChildren();
  const head = el("div", { role: "row", class: "row head" });
  head.append(el("span", { role: "columnheader" }, "Host"), el("span", { role: "columnheader" }, "State"),
    el("span", { role: "columnheader" }, clock(new Date(begin).toISOString()) + " → " + clock(new Date(end).toISOString())));
  table.append(head);
  if (!snapshot.hosts.length) table.append(el("p", { class: "muted" }, "No host planned yet."));
  for (const host of snapshot.hosts) {
    const row = el("div", { role: "row", class: "row", "data-host": host.tag });
    const name = el("span", { role: "rowheader", class: "host" });
    if (host.workflow_url) {
      name.append(el("a", { href: host.workflow_url, target: "_blank", rel: "noopener", class: "temporal",
        title: "its workflow in the Temporal Web UI" }, host.tag));
    } else {
      name.append(host.tag);
    }
    if (host.cluster) name.append(el("span", { class: "muted" }, " " + host.cluster));
    const wait = snapshot.clusters.find((c) => c.name === host.cluster && c.waiting_reason);
    let stateText = host.state === "running" ? host.step : host.state;
    if (host.state === "pending" && wait) stateText = "pending: " + wait.waiting_reason;
    const state = el("span", { role: "cell", class: "state st-" + host.state }, stateText);
    if (host.detail) state.title = host.detail;
    const ends = (snapshot.campaign.never || []).includes(host.tag) ? "no window long enough" : hostEnds(host);
    if (ends) state.append(el("span", { class: "ends" }, ends));
    const lane = el("span", { role: "cell", class: "lane" });
    for (const w of (snapshot.windows || {})[host.cluster] || []) {
      const from = Math.max(Date.parse(w.start), begin);
      const to = Math.min(Date.parse(w.end), end);
      if (to <= from) continue;
      const shade = el("span", { class: "window", title: w.label, "aria-label": host.tag + " " + w.label });
      shade.style.left = scale(from) + "%";
      shade.style.width = Math.max(0.6, scale(to) - scale(from)) + "%";
      lane.append(shade);
    }
    for (const s of host.segments) {
      const from = Date.parse(s.start);
      const to = s.end ? Date.parse(s.end) : Date.now();
      const label = s.step + ": " + clock(s.start) + " – " + (s.end ? clock(s.end) : "now");
      const bar = el("span", { class: "bar step-" + s.step + (s.end ? "" : " open"), tabindex: "0",
        title: label, "aria-label": host.tag + " " + label, "data-step": s.step }, s.step);
      bar.style.left = scale(from) + "%";
      bar.style.width = Math.max(0.6, scale(to) - scale(from)) + "%";
      bar.style.top = (2 + (18 / s.tracks) * s.track) + "px";
      bar.style.height = (18 / s.tracks) + "px";
      lane.append(bar);
    }
    row.append(name, state, lane);
    table.append(row);
  }
}

function renderCampaign(snapshot) {
  const c = snapshot.campaign;
  document.getElementById("campaign-status").textContent = c.status_text;
  const reason = document.getElementById("abort-reason");
  reason.hidden = !c.abort_reason;
  reason.querySelector("span").textContent = c.abort_reason || "";
  const detail = document.getElementById("live-detail");
  detail.hidden = !c.detail;
  detail.textContent = c.detail || "";
  // Each action only where the API would accept it; a viewer's stay disabled.
  const may = document.querySelector(".actions").dataset.mayOperate === "yes";
  const running = ["planning", "running"].includes(c.status);
  document.getElementById("start-form").hidden = c.status !== "created";
  document.getElementById("pause").disabled = !may || !running;
  document.getElementById("resume").disabled = !may || c.status !== "paused";
  document.getElementById("abort").disabled = !may || c.final || !(running || c.status === "paused");
  document.body.dataset.campaignStatus = c.status;
}

function render(snapshot) {
  renderCampaign(snapshot);
  renderEnds(snapshot);
  renderClusters(snapshot);
  renderTimeline(snapshot);
}

function setupTimeline() {
  const holder = document.getElementById("snapshot");
  if (!holder) return;
  let snapshot = JSON.parse(holder.textContent);
  render(snapshot);
  if (snapshot.campaign.final) return;
  const events = new EventSource("/ui/campaigns/" + snapshot.campaign.id + "/events");
  events.addEventListener("snapshot", (event) => {
    snapshot = JSON.parse(event.data);
    render(snapshot);
    if (snapshot.campaign.final) events.close();
  });
  // Open bars grow with the clock between snapshots.
  setInterval(() => { if (!snapshot.campaign.final) renderTimeline(snapshot); }, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  setupAbortDialog();
  setupTimeline();
});
