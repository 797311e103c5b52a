// A task's logs: stdout/stderr, follow (stream from the end), head and tail.
import { h, fill } from "../dom.js";
import { get, streamText, url } from "../api.js";
import { setQuery } from "../router.js";
import { section, errorBox } from "../components.js";
import { taskHead } from "./alloc.js";

const WINDOW = 50000;          // bytes shown by head and tail, and followed from the end
const MAX_KEPT = 512 * 1024;   // characters kept on screen while following

export async function logsPage(ctx) {
  const { alloc: id, task } = ctx.params;
  ctx.title(`Logs · ${task}`);
  const a = await get(`/v1/allocation/${id}`, { signal: ctx.signal });
  const state = { type: ctx.query.type === "stderr" ? "stderr" : "stdout", mode: ctx.query.mode || "follow" };
  const out = h("pre.code.logs#log-output", { tabindex: 0, "aria-label": "Log output", "aria-live": "off" });
  const status = h("span.muted.small");
  const problem = h("div");
  let stream = null;

  const button = (group, value, label) => h("button.btn.btn-small", {
    "aria-pressed": String(state[group] === value), class: state[group] === value ? "btn-primary" : null,
    onclick: () => { state[group] = value; setQuery({ [group]: value }); redrawControls(); load(); } }, label);
  const controls = h("div.toolbar");
  const redrawControls = () => fill(controls,
    h("div.row", { role: "group", "aria-label": "Stream" }, button("type", "stdout", "stdout"), button("type", "stderr", "stderr")),
    h("div.row", { role: "group", "aria-label": "Mode" }, button("mode", "follow", "Follow"), button("mode", "head", "Head"), button("mode", "tail", "Tail")),
    status);

  async function load() {
    stream?.abort();
    stream = new AbortController();
    ctx.signal.addEventListener("abort", () => stream.abort(), { once: true });
    const signal = stream.signal;
    out.textContent = "";
    fill(problem);
    out.classList.toggle("stderr", state.type === "stderr");
    const follow = state.mode === "follow";
    const head = state.mode === "head";
    status.textContent = follow ? "Following…" : "Loading…";
    const path = url(`/v1/client/fs/logs/${id}`, { task, type: state.type, plain: "true",
      origin: head ? "start" : "end", offset: head ? 0 : WINDOW, follow: follow ? "true" : undefined });
    let received = 0;
    try {
      await streamText(path, (text) => {
        if (head && received >= WINDOW) return;
        received += text.length;
        const stick = out.scrollTop + out.clientHeight >= out.scrollHeight - 24;
        out.textContent = (out.textContent + text).slice(-MAX_KEPT);
        if (stick || !head) out.scrollTop = out.scrollHeight;
      }, { signal });
      status.textContent = follow ? "Stream ended" : out.textContent ? "" : `No ${state.type} output`;
    } catch (err) {
      if (signal.aborted) return;
      status.textContent = "";
      fill(problem, errorBox(err, "read this task's logs"));
    }
  }

  redrawControls();
  ctx.el.append(...taskHead(a, task, "logs"), section("Logs", [controls, problem, out]));
  load();
}
