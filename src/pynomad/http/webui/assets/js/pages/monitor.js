// Stream an agent's log lines (/v1/agent/monitor) at a chosen level.
import { h, fill } from "../dom.js";
import { streamText, url } from "../api.js";
import { setQuery } from "../router.js";
import { pageHeader, section, select, errorBox } from "../components.js";
import { crumbs } from "../links.js";

const MAX_KEPT = 256 * 1024;

export async function monitorPage(ctx) {
  const node = ctx.params.node;
  const server = ctx.params.server;
  const who = node ? ["Clients", "/ui/clients", `/ui/clients/${node}`] : ["Servers", "/ui/servers", `/ui/servers/${encodeURIComponent(server)}`];
  ctx.title(`Monitor ${node || server}`);
  let level = ctx.query.level || "info";
  const out = h("pre.code.logs#monitor-output", { tabindex: 0, "aria-label": "Agent log" });
  const problem = h("div");
  const status = h("span.muted.small");
  let stream = null;
  const start = async () => {
    stream?.abort();
    stream = new AbortController();
    ctx.signal.addEventListener("abort", () => stream.abort(), { once: true });
    out.textContent = "";
    fill(problem);
    status.textContent = "Streaming…";
    const path = url("/v1/agent/monitor", { log_level: level, plain: "true", node_id: node, server_id: server });
    try {
      await streamText(path, (text) => {
        out.textContent = (out.textContent + text).slice(-MAX_KEPT);
        out.scrollTop = out.scrollHeight;
      }, { signal: stream.signal });
      status.textContent = "Stream ended";
    } catch (err) {
      if (!stream.signal.aborted) { status.textContent = ""; fill(problem, errorBox(err, "read this agent's logs")); }
    }
  };
  ctx.el.append(crumbs([who[0], who[1]], [node || server, who[2]], ["Monitor"]),
    pageHeader(`Monitor ${node ? "client" : "server"}`, { subtitle: node || server }),
    section("Agent log", [h("div.toolbar", h("label.filter-group", h("span", "Level"),
      select(["trace", "debug", "info", "warn", "error"].map((l) => [l, l]), level, (v) => { level = v; setQuery({ level: v }); start(); },
        { "aria-label": "Log level" })), status), problem, out]));
  start();
}
