// A client node: details, eligibility toggle, drain, resources, allocations, events, drivers,
// host volumes, attributes and meta.
import { h, fill, when, timestamp, mhz, mib, bytes, duration, toDate } from "../dom.js";
import { post, live, poll, url } from "../api.js";
import { badge, pageHeader, section, table, kv, meter, emptyState, field, select, toast, searchInput } from "../components.js";
import { crumbs } from "../links.js";
import { allocTable, metaTable } from "./shared.js";
import { nodeState } from "./clients.js";

const DEADLINES = [["1h", "1 hour"], ["4h", "4 hours"], ["8h", "8 hours"], ["12h", "12 hours"], ["24h", "1 day"], ["custom", "Custom"]];
const HOURS = { "1h": 1, "4h": 4, "8h": 8, "12h": 12, "24h": 24 };

export async function clientPage(ctx) {
  const id = ctx.params.node;
  const head = h("div");
  const details = h("div");
  const usage = h("div");
  const allocSlot = h("div");
  const rest = h("div");
  ctx.el.append(head, details, usage, allocSlot, rest);
  let allocs = [];
  let node = null;
  let stats = null;
  const drawUsage = () => node && fill(usage, resourcesCard(node, allocs, stats));
  const drainSlot = h("div");
  let drainKey = null;
  await live(ctx, `/v1/node/${id}`, (n) => {
    node = n;
    ctx.title(`Client ${n.Name}`);
    fill(head, crumbs(["Clients", "/ui/clients"], [n.Name]), pageHeader(n.Name, {
      subtitle: n.ID, badges: [badge(n.Status), nodeState(n)],
      actions: [eligibilitySwitch(n), h("a.btn", { href: `/ui/clients/${n.ID}/monitor` }, "Monitor")] }));
    const key = JSON.stringify([n.Drain, n.DrainStrategy, n.LastDrain]);
    if (key !== drainKey) { drainKey = key; fill(drainSlot, drainPanel(n)); }
    fill(details, h("div.grid", section("Details", kv([
      ["Address", h("span.mono", n.HTTPAddr)], ["Datacenter", n.Datacenter], ["Node pool", n.NodePool],
      ["Node class", n.NodeClass || "–"], ["Version", n.Attributes?.["nomad.version"]],
      ["OS", `${n.Attributes?.["os.name"] || ""} ${n.Attributes?.["os.version"] || ""}`.trim()],
      ["Status updated", when(n.StatusUpdatedAt ? n.StatusUpdatedAt * 1e9 : null)],
    ])), section("Drain", drainSlot, { id: "drain" })));
    drawUsage();
    fill(rest, nodeSections(n));
  });
  poll(url("/v1/client/stats", { node_id: id }), (s) => { stats = s; drawUsage(); }, { signal: ctx.signal, ms: 3000, onError: () => true });
  await live(ctx, `/v1/node/${id}/allocations`, (list) => {
    allocs = list;
    drawUsage();
    fill(allocSlot, section("Allocations", allocTable(list, { job: true, node: false, group: true })));
  });
}

function eligibilitySwitch(n) {
  const on = n.SchedulingEligibility === "eligible";
  return h("button.switch", { role: "switch", "aria-checked": String(on), disabled: n.Drain,
    title: n.Drain ? "A draining client is ineligible" : "Toggle scheduling eligibility",
    onclick: async (ev) => {
      ev.currentTarget.disabled = true;
      try {
        await post(`/v1/node/${n.ID}/eligibility`, { NodeID: n.ID, Eligibility: on ? "ineligible" : "eligible" });
        toast(`${n.Name} is now ${on ? "ineligible" : "eligible"} for scheduling`, "good");
      } catch (err) {
        toast(`Eligibility change failed: ${err.message}`, "bad");
        ev.target.disabled = false;
      }
    } }, h("span.switch-track", h("span.switch-thumb")), "Eligible");
}

function drainPanel(n) {
  if (n.Drain) {
    const s = n.DrainStrategy || {};
    const deadline = s.Deadline < 0 ? "Force drain" : toDate(s.ForceDeadline) ? `Forced at ${timestamp(s.ForceDeadline)}` : "No deadline";
    return h("div", kv([["Status", badge("draining", "Draining")], ["Deadline", deadline],
      ["Ignore system jobs", s.IgnoreSystemJobs ? "Yes" : "No"], ["Started", when(s.StartedAt)]]),
    h("div.toolbar", { style: { marginTop: "12px", marginBottom: "0" } },
      h("button.btn", { onclick: () => drain(n, null) }, "Stop drain"),
      s.Deadline >= 0 ? h("button.btn.btn-danger", { onclick: () => drain(n, { Deadline: -1, IgnoreSystemJobs: !!s.IgnoreSystemJobs }) }, "Force drain") : null));
  }
  const deadline = select(DEADLINES, "1h", (v) => { custom.hidden = v !== "custom"; }, { "aria-label": "Deadline" });
  const custom = h("input.input", { placeholder: "e.g. 30m or 2h", hidden: true, "aria-label": "Custom deadline" });
  const force = h("input", { type: "checkbox", name: "force" });
  const noDeadline = h("input", { type: "checkbox", name: "no-deadline" });
  const ignoreSystem = h("input", { type: "checkbox", name: "ignore-system" });
  const last = n.LastDrain;
  return h("form", { onsubmit: (ev) => {
    ev.preventDefault();
    let ns = 0;
    if (force.checked) ns = -1;
    else if (!noDeadline.checked) {
      ns = deadline.value === "custom" ? parseDuration(custom.value) : HOURS[deadline.value] * 3600e9;
      if (!ns) { toast("Enter a deadline such as 30m or 2h", "bad"); return; }
    }
    drain(n, { Deadline: ns, IgnoreSystemJobs: ignoreSystem.checked });
  } },
  h("p.muted.small", { style: { marginTop: 0 } }, "Draining migrates this client's allocations elsewhere and marks it ineligible."),
  field("Deadline", h("div.row", deadline, custom)),
  h("div", { style: { marginBottom: "12px" } },
    h("label.check", noDeadline, "No deadline"), h("label.check", force, "Force drain"),
    h("label.check", ignoreSystem, "Ignore system jobs")),
  h("button.btn.btn-primary", { type: "submit" }, "Drain"),
  last ? h("p.muted.small", `Last drain: ${last.Status} (${timestamp(last.UpdatedAt || last.StartedAt)})`) : null);
}

function parseDuration(text) {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(String(text).trim());
  if (!m) return 0;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2]] * 1e9;
}

async function drain(n, spec) {
  try {
    await post(`/v1/node/${n.ID}/drain`, { NodeID: n.ID, DrainSpec: spec, MarkEligible: false, Meta: { message: "drain from the Nomad UI" } });
    toast(spec ? `Draining ${n.Name}${spec.Deadline > 0 ? ` (deadline ${duration(spec.Deadline)})` : ""}` : `Drain of ${n.Name} stopped`, "good");
  } catch (err) {
    toast(`Drain failed: ${err.message}`, "bad");
  }
}

function resourcesCard(n, allocs, stats) {
  const res = n.NodeResources || {};
  const totalCpu = res.Cpu?.CpuShares || 0;
  const totalMem = res.Memory?.MemoryMB || 0;
  let cpu = 0, memory = 0;
  for (const a of allocs) {
    if (a.ClientStatus !== "running" && a.ClientStatus !== "pending") continue;
    for (const t of Object.values(a.AllocatedResources?.Tasks || {})) { cpu += t.Cpu?.CpuShares || 0; memory += t.Memory?.MemoryMB || 0; }
  }
  const hostCpu = stats ? stats.CPU.reduce((s, c) => s + (c.Total || 0), 0) / Math.max(1, stats.CPU.length) : null;
  return section("Resources", h("div.grid",
    h("div", h("p.small.muted", { style: { margin: "0 0 6px" } }, "Reserved by allocations"),
      meter(cpu, totalCpu, `CPU ${mhz(cpu)} / ${mhz(totalCpu)}`),
      meter(memory, totalMem, `Memory ${mib(memory)} / ${mib(totalMem)}`)),
    h("div", h("p.small.muted", { style: { margin: "0 0 6px" } }, "Host utilization"),
      stats ? [meter(hostCpu, 100, `CPU ${hostCpu.toFixed(1)}%`),
        meter(stats.Memory.Used, stats.Memory.Total, `Memory ${bytes(stats.Memory.Used)} / ${bytes(stats.Memory.Total)}`)]
        : h("p.muted.small", "Host statistics are unavailable."))));
}

function nodeSections(n) {
  const drivers = Object.entries(n.Drivers || {}).sort(([a], [b]) => a.localeCompare(b));
  const volumes = Object.entries(n.HostVolumes || {});
  const attrs = Object.entries(n.Attributes || {}).sort(([a], [b]) => a.localeCompare(b));
  const attrBody = h("div");
  const drawAttrs = (term = "") => fill(attrBody, kv(attrs.filter(([k, v]) => !term || k.includes(term) || String(v).includes(term))
    .map(([k, v]) => [h("span.mono", k), h("span.mono", v)])));
  drawAttrs();
  return [
    section("Events", table([
      { title: "Time", class: "nowrap", render: (e) => timestamp(e.Timestamp) },
      { title: "Subsystem", render: (e) => e.Subsystem },
      { title: "Message", render: (e) => e.Message },
    ], [...(n.Events || [])].reverse(), { empty: "No events", label: "Client events" })),
    h("div.grid",
      section("Drivers", table([
        { title: "Driver", render: ([name]) => name },
        { title: "Detected", render: ([, d]) => (d.Detected ? "Yes" : "No") },
        { title: "Health", render: ([, d]) => badge(d.Healthy ? "healthy" : "unhealthy", d.Healthy ? "Healthy" : "Unhealthy") },
        { title: "Updated", class: "nowrap", render: ([, d]) => when(d.UpdateTime) },
      ], drivers, { empty: "No drivers", label: "Drivers" })),
      section("Host volumes", volumes.length ? table([
        { title: "Name", render: ([name]) => name },
        { title: "Path", class: "mono", render: ([, v]) => v.Path },
        { title: "Read only", render: ([, v]) => (v.ReadOnly ? "Yes" : "No") },
      ], volumes, { label: "Host volumes" }) : emptyState("No host volumes"))),
    section("Attributes", attrBody, { actions: [searchInput("", (v) => drawAttrs(v), "Filter attributes")] }),
    section("Meta", metaTable(n.Meta)),
  ];
}
