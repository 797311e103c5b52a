// Nomad native service registrations: the list and one service's instances.
import { h, fill } from "../dom.js";
import { live, url } from "../api.js";
import { pageHeader, section, table, emptyState } from "../components.js";
import { jobHref, allocLink, nodeLink, crumbs } from "../links.js";

export async function servicesList(ctx) {
  ctx.title("Services");
  const body = h("div");
  ctx.el.append(pageHeader("Services", { subtitle: "Services registered with Nomad's native service discovery." }), body);
  await live(ctx, url("/v1/services", { namespace: "*" }), (data) => {
    const rows = data.flatMap((ns) => (ns.Services || []).map((s) => ({ ...s, Namespace: ns.Namespace })));
    fill(body, rows.length ? h("div.cards-table", table([
      { title: "Name", render: (s) => h("a", { href: url(`/ui/services/${encodeURIComponent(s.ServiceName)}`, { namespace: s.Namespace }) }, s.ServiceName) },
      { title: "Namespace", render: (s) => s.Namespace },
      { title: "Tags", render: (s) => (s.Tags || []).map((t) => h("span.tag", t)) },
    ], rows, { rowHref: (s) => url(`/ui/services/${encodeURIComponent(s.ServiceName)}`, { namespace: s.Namespace }), label: "Services" }))
      : emptyState("No services", "Services with provider = \"nomad\" appear here while their allocations run."));
  });
}

export async function servicePage(ctx) {
  const name = ctx.params.name;
  const ns = ctx.query.namespace || "default";
  ctx.title(`Service ${name}`);
  const body = h("div");
  ctx.el.append(crumbs(["Services", "/ui/services"], [name]), pageHeader(name, { subtitle: `Namespace ${ns}` }), body);
  await live(ctx, url(`/v1/service/${encodeURIComponent(name)}`, { namespace: ns }), (regs) => fill(body, section("Instances", table([
    { title: "Address", class: "mono", render: (r) => `${r.Address}:${r.Port}` },
    { title: "Job", render: (r) => h("a", { href: jobHref(r.JobID, r.Namespace) }, r.JobID) },
    { title: "Allocation", class: "id", render: (r) => allocLink(r.AllocID) },
    { title: "Client", render: (r) => nodeLink(r.NodeID) },
    { title: "Datacenter", render: (r) => r.Datacenter },
    { title: "Tags", render: (r) => (r.Tags || []).map((t) => h("span.tag", t)) },
  ], regs, { empty: "No instances registered", label: "Service instances" }))));
}
