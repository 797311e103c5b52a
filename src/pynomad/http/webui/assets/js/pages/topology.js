// Topology: each datacenter's clients with their allocations packed by memory and CPU.
import { h, fill, shortId, mhz, mib, allocResources, pluralize } from "../dom.js";
import { watch, live } from "../api.js";
import { badge, pageHeader, section, kv, emptyState } from "../components.js";
import { allocHref, jobHref, nodeHref } from "../links.js";

const ACTIVE = new Set(["running", "pending"]);

export async function topologyPage(ctx) {
  ctx.title("Topology");
  let nodes = null, allocs = null, selected = null;
  const summary = h("div");
  const body = h("div");
  const detail = h("div");
  ctx.el.append(pageHeader("Topology", { subtitle: "Clients by datacenter, with the memory and CPU their allocations reserve." }),
    summary, detail, body);
  const draw = () => {
    if (!nodes || !allocs) return;
    const byNode = {};
    for (const a of allocs) if (ACTIVE.has(a.ClientStatus)) (byNode[a.NodeID] ||= []).push(a);
    let cpu = 0, mem = 0, totalCpu = 0, totalMem = 0;
    for (const n of nodes) {
      totalCpu += n.NodeResources?.Cpu?.CpuShares || 0;
      totalMem += n.NodeResources?.Memory?.MemoryMB || 0;
    }
    for (const a of allocs) if (ACTIVE.has(a.ClientStatus)) { const r = allocResources(a); cpu += r.cpu; mem += r.memory; }
    fill(summary, h("div.stat-row",
      stat("Clients", nodes.length), stat("Running allocations", allocs.filter((a) => a.ClientStatus === "running").length),
      stat("Memory reserved", `${mib(mem)} of ${mib(totalMem)}`), stat("CPU reserved", `${mhz(cpu)} of ${mhz(totalCpu)}`)));
    const dcs = {};
    for (const n of nodes) (dcs[n.Datacenter] ||= []).push(n);
    if (!nodes.length) return fill(body, emptyState("No clients", "Clients appear here once they register."));
    fill(body, Object.keys(dcs).sort().map((dc) => h("section.topo-dc",
      h("h2", `${dc} `, h("span.muted.small", pluralize(dcs[dc].length, "client"))),
      h("div.topo-nodes", dcs[dc].sort((a, b) => a.Name.localeCompare(b.Name)).map((n) => nodeCard(n, byNode[n.ID] || []))))));
    drawDetail();
  };
  const select = (a) => { selected = selected?.ID === a.ID ? null : a; drawDetail(); draw(); };
  const drawDetail = () => fill(detail, selected ? section(`Allocation ${shortId(selected.ID)}`, kv([
    ["Job", h("a", { href: jobHref(selected.JobID, selected.Namespace) }, selected.JobID)], ["Task group", selected.TaskGroup],
    ["Status", badge(selected.ClientStatus)], ["Client", h("a", { href: nodeHref(selected.NodeID) }, selected.NodeName || shortId(selected.NodeID))],
    ["Memory", mib(allocResources(selected).memory)], ["CPU", mhz(allocResources(selected).cpu)],
  ]), { actions: [h("a.btn.btn-small", { href: allocHref(selected.ID) }, "Open allocation"),
    h("button.btn.btn-small.btn-ghost", { onclick: () => { selected = null; drawDetail(); draw(); } }, "Close")] }) : null);

  function nodeCard(n, list) {
    const totalMem = n.NodeResources?.Memory?.MemoryMB || 0;
    const totalCpu = n.NodeResources?.Cpu?.CpuShares || 0;
    const track = (kind, total) => h("div.topo-row", h("span.k", kind === "memory" ? "Mem" : "CPU"),
      h("div.topo-track", { role: "group", "aria-label": `${kind} of ${n.Name}` }, list.map((a) => {
        const r = allocResources(a)[kind];
        return h("button.topo-alloc", {
          class: [`st-${a.ClientStatus}`, selected?.ID === a.ID ? "active" : ""].join(" "),
          style: { width: `${total ? (r / total) * 100 : 0}%` },
          title: `${a.JobID} / ${a.TaskGroup} — ${kind === "memory" ? mib(r) : mhz(r)}`,
          "aria-label": `Allocation ${shortId(a.ID)} of ${a.JobID}`,
          onclick: () => select(a) });
      })));
    const used = list.reduce((s, a) => s + allocResources(a).memory, 0);
    return h("div.topo-node", { class: list.some((a) => a.ID === selected?.ID) ? "selected" : null },
      h("div.topo-node-head", h("a", { href: nodeHref(n.ID) }, n.Name), h("span.row", badge(n.Status),
        n.Drain ? badge("draining", "Draining") : n.SchedulingEligibility !== "eligible" ? badge("ineligible") : null)),
      track("memory", totalMem), track("cpu", totalCpu),
      h("div.small.muted", `${pluralize(list.length, "allocation")} · ${mib(used)} of ${mib(totalMem)} memory`));
  }
  watch("/v1/allocations?resources=true&task_states=false&namespace=*", (a) => { allocs = a; draw(); }, { signal: ctx.signal });
  await live(ctx, "/v1/nodes?resources=true", (n) => { nodes = n; draw(); });
}

const stat = (label, value) => h("div.stat", h("div.stat-label", label), h("div.stat-value", String(value)));
