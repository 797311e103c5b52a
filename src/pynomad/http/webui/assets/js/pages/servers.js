// Servers: the gossip members with leader, status, region, datacenter; a server's details.
import { h, fill } from "../dom.js";
import { get, poll } from "../api.js";
import { badge, pageHeader, section, table, kv, emptyState } from "../components.js";
import { crumbs } from "../links.js";

const serverHref = (m) => `/ui/servers/${encodeURIComponent(m.Name)}`;

async function members(signal) {
  const [data, leader] = await Promise.all([get("/v1/agent/members", { signal }),
    get("/v1/status/leader", { signal }).catch(() => "")]);
  return (data.Members || []).map((m) => ({ ...m, leader: `${m.Addr}:${m.Tags?.port}` === leader }));
}

function watchMembers(ctx, draw) {
  return new Promise((resolve, reject) => {
    let first = true;
    poll("/v1/agent/members", async () => {
      try {
        draw(await members(ctx.signal));
        if (first) { first = false; resolve(); }
      } catch (err) { if (first) { first = false; reject(err); } }
    }, { signal: ctx.signal, ms: 5000, onError: (err) => { if (first) { first = false; reject(err); return false; } return true; } });
  });
}

export async function serversList(ctx) {
  ctx.title("Servers");
  const body = h("div");
  ctx.el.append(pageHeader("Servers"), body);
  await watchMembers(ctx, (list) => fill(body, h("div.cards-table", table([
    { title: "Name", render: (m) => h("a", { href: serverHref(m) }, m.Name) },
    { title: "Status", render: (m) => badge(m.Status) },
    { title: "Leader", render: (m) => (m.leader ? badge("leader", "Leader") : "–") },
    { title: "Address", class: "mono", render: (m) => m.Addr },
    { title: "Port", class: "num", render: (m) => String(m.Port) },
    { title: "Datacenter", render: (m) => m.Tags?.dc || "–" },
    { title: "Region", render: (m) => m.Tags?.region || "–" },
    { title: "Version", render: (m) => m.Tags?.build || "–" },
  ], list, { empty: "This agent knows no servers", rowHref: serverHref, label: "Servers" }))));
}

export async function serverPage(ctx) {
  const name = ctx.params.server;
  ctx.title(`Server ${name}`);
  const body = h("div");
  ctx.el.append(body);
  await watchMembers(ctx, (list) => {
    const m = list.find((x) => x.Name === name);
    if (!m) return fill(body, emptyState("Server not found", `No server named "${name}" is a member.`));
    fill(body, crumbs(["Servers", "/ui/servers"], [m.Name]),
      pageHeader(m.Name, { badges: [badge(m.Status), m.leader ? badge("leader", "Leader") : null],
        actions: [h("a.btn", { href: `${serverHref(m)}/monitor` }, "Monitor")] }),
      h("div.grid",
        section("Details", kv([["Address", h("span.mono", `${m.Addr}:${m.Port}`)], ["Status", m.Status],
          ["Leader", m.leader ? "Yes" : "No"], ["Datacenter", m.Tags?.dc], ["Region", m.Tags?.region],
          ["Version", m.Tags?.build], ["Protocol", `${m.ProtocolCur} (min ${m.ProtocolMin}, max ${m.ProtocolMax})`]])),
        section("Tags", kv(Object.entries(m.Tags || {}).sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [h("span.mono", k), h("span.mono", v)])))));
  });
}
