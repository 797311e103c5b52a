// A terminal in a running task over Nomad's exec WebSocket (xterm.js from npm, in vendor/).
import { h, fill } from "../dom.js";
import { get, token, url } from "../api.js";
import { section, emptyState } from "../components.js";
import { taskHead } from "./alloc.js";

const VENDOR = "/ui/assets/vendor";

function loadCss(href) {
  if (document.querySelector(`link[href="${href}"]`)) return;
  document.head.append(h("link", { rel: "stylesheet", href }));
}

const toB64 = (text) => {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
};
const fromB64 = (data) => Uint8Array.from(atob(data), (c) => c.charCodeAt(0));

export async function execPage(ctx) {
  const { alloc: id, task } = ctx.params;
  ctx.title(`Exec · ${task}`);
  const a = await get(`/v1/allocation/${id}`, { signal: ctx.signal });
  ctx.el.append(...taskHead(a, task, "exec"));
  if (a.TaskStates?.[task]?.State !== "running") {
    ctx.el.append(section("Exec", emptyState("Task is not running", "A terminal can be opened in a running task only.")));
    return;
  }
  let xterm, fit;
  try {
    [xterm, fit] = await Promise.all([import(`${VENDOR}/xterm.mjs`), import(`${VENDOR}/addon-fit.mjs`)]);
  } catch {
    ctx.el.append(section("Exec", emptyState("Terminal unavailable",
      "The terminal library is not installed with this agent (make setup builds it).")));
    return;
  }
  loadCss(`${VENDOR}/xterm.css`);
  const command = h("input.input#exec-command", { value: ctx.query.command || "/bin/sh", "aria-label": "Command",
    style: { minWidth: "260px" } });
  const status = h("span.muted.small");
  const screen = h("div.terminal#terminal");
  let session = null;
  const connect = (ev) => {
    ev?.preventDefault();
    session?.close();
    fill(screen);
    session = openTerminal(xterm, fit, screen, { id, task, command: command.value.trim() || "/bin/sh", status });
  };
  ctx.signal.addEventListener("abort", () => session?.close(), { once: true });
  ctx.el.append(section("Exec", [
    h("form.toolbar", { onsubmit: connect }, h("label.filter-group", h("span", "Command"), command),
      h("button.btn.btn-primary", { type: "submit" }, "Connect"), status),
    screen]));
  connect();
}

function openTerminal(xterm, fit, screen, { id, task, command, status }) {
  const term = new xterm.Terminal({ cursorBlink: true, fontFamily: "ui-monospace, DejaVu Sans Mono, monospace", fontSize: 13,
    theme: { background: "#000000" }, convertEol: false });
  const fitter = new fit.FitAddon();
  term.loadAddon(fitter);
  term.open(screen);
  fitter.fit();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const path = url(`/v1/client/allocation/${id}/exec`, { task, tty: "true", ws_handshake: "true",
    command: JSON.stringify(command.split(/\s+/)) });
  const ws = new WebSocket(`${scheme}//${location.host}${path}`);
  const send = (msg) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg)); };
  const resize = () => { fitter.fit(); send({ tty_size: { height: term.rows, width: term.cols } }); };
  status.textContent = "Connecting…";
  ws.onopen = () => {
    ws.send(JSON.stringify({ version: 1, auth_token: token.get() }));
    status.textContent = `Connected: ${command}`;
    resize();
    term.focus();
  };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.stdout?.data) term.write(fromB64(msg.stdout.data));
    if (msg.stderr?.data) term.write(fromB64(msg.stderr.data));
    if (msg.exited) {
      const code = msg.result?.exit_code ?? 0;
      term.write(`\r\n\x1b[2m[process exited with code ${code}]\x1b[0m\r\n`);
      status.textContent = `Exited with code ${code}`;
    }
  };
  ws.onclose = (ev) => {
    if (ev.code !== 1000 && ev.reason) term.write(`\r\n\x1b[31m${ev.reason}\x1b[0m\r\n`);
    if (!status.textContent.startsWith("Exited")) status.textContent = "Disconnected";
  };
  const input = term.onData((data) => send({ stdin: { data: toB64(data) } }));
  const heartbeat = setInterval(() => send({}), 10000);
  window.addEventListener("resize", resize);
  return {
    close() {
      clearInterval(heartbeat);
      window.removeEventListener("resize", resize);
      input.dispose();
      if (ws.readyState <= WebSocket.OPEN) ws.close(1000);
      term.dispose();
    },
  };
}
