// Variables: browse by path, view, create, edit (check-and-set), delete.
import { h, fill, when } from "../dom.js";
import { get, put, del, live, url } from "../api.js";
import { navigate, stopPage } from "../router.js";
import { pageHeader, section, table, kv, emptyState, confirmButton, errorBox, field, select } from "../components.js";
import { crumbs } from "../links.js";
import { namespaceOptions } from "./jobs.js";

const encPath = (p) => p.split("/").map(encodeURIComponent).join("/");
const varHref = (v) => url(`/ui/variables/var/${encPath(v.Path)}`, { namespace: v.Namespace });
const folderHref = (p) => `/ui/variables/path/${encPath(p)}`;

function pathCrumbs(path, last = true) {
  const parts = path ? path.split("/") : [];
  return crumbs(["Variables", "/ui/variables"], ...parts.map((p, i) =>
    [p, i === parts.length - 1 && last ? null : folderHref(parts.slice(0, i + 1).join("/"))]));
}

export async function variablesList(ctx) {
  const prefix = (ctx.params.path || "").replace(/\/+$/, "");
  ctx.title(prefix ? `Variables · ${prefix}` : "Variables");
  const body = h("div");
  ctx.el.append(prefix ? pathCrumbs(prefix) : null,
    pageHeader(prefix || "Variables", { actions: [h("a.btn.btn-primary", { href: url("/ui/variables/new", { path: prefix ? `${prefix}/` : "" }) }, "Create variable")] }),
    body);
  await live(ctx, url("/v1/vars", { namespace: "*", prefix }), (vars) => {
    const folders = new Map();
    const files = [];
    for (const v of vars) {
      if (prefix && !(v.Path === prefix || v.Path.startsWith(`${prefix}/`))) continue;
      const rest = prefix ? v.Path.slice(prefix.length + 1) : v.Path;
      if (!rest) { files.push(v); continue; }
      const [head, ...tail] = rest.split("/");
      if (tail.length) {
        const f = folders.get(head) || { name: head, count: 0 };
        f.count++;
        folders.set(head, f);
      } else files.push(v);
    }
    if (!folders.size && !files.length) {
      return fill(body, section(null, emptyState("No variables", prefix ? `Nothing under ${prefix}/.` : "Variables you create appear here.")));
    }
    const rows = [...[...folders.values()].sort((a, b) => a.name.localeCompare(b.name)).map((f) => ({ folder: f })),
      ...files.sort((a, b) => a.Path.localeCompare(b.Path)).map((v) => ({ v }))];
    fill(body, h("div.cards-table", table([
      { title: "Path", render: (r) => (r.folder
        ? h("a", { href: folderHref(prefix ? `${prefix}/${r.folder.name}` : r.folder.name) }, h("span.fs-icon", "▸"), `${r.folder.name}/`)
        : h("a", { href: varHref(r.v) }, h("span.fs-icon", "·"), prefix ? r.v.Path.slice(prefix.length + 1) || r.v.Path : r.v.Path)) },
      { title: "Namespace", render: (r) => (r.folder ? `${r.folder.count} variable${r.folder.count > 1 ? "s" : ""}` : r.v.Namespace) },
      { title: "Last modified", class: "nowrap", render: (r) => (r.folder ? "" : when(r.v.ModifyTime)) },
    ], rows, { rowHref: (r) => (r.folder ? folderHref(prefix ? `${prefix}/${r.folder.name}` : r.folder.name) : varHref(r.v)), label: "Variables" })));
  });
}

export async function variablePage(ctx) {
  const path = ctx.params.path;
  const ns = ctx.query.namespace || "default";
  ctx.title(`Variable ${path}`);
  const body = h("div");
  ctx.el.append(body);
  await live(ctx, url(`/v1/var/${encPath(path)}`, { namespace: ns }), (v) => {
    fill(body, pathCrumbs(path), pageHeader(path, { subtitle: `Namespace ${v.Namespace} · modified `,
      actions: [h("a.btn", { href: url(`/ui/variables/edit/${encPath(path)}`, { namespace: ns }) }, "Edit"),
        confirmButton("Delete", async () => {
          stopPage();
          await del(url(`/v1/var/${encPath(path)}`, { namespace: ns, cas: v.ModifyIndex }));
          navigate("/variables");
        }, { danger: true, confirm: "Yes, delete" })] }),
    section("Items", kv(Object.entries(v.Items || {}).sort(([a], [b]) => a.localeCompare(b))
      .map(([k, val]) => [h("span.mono", k), secretValue(val)]))));
    body.querySelector(".subtitle")?.append(when(v.ModifyTime));
  });
}

function secretValue(value) {
  const span = h("span.mono", "••••••••");
  let shown = false;
  return h("span.row", span, h("button.btn.btn-small.btn-ghost", { onclick: (ev) => {
    shown = !shown;
    span.textContent = shown ? value : "••••••••";
    ev.currentTarget.textContent = shown ? "Hide" : "Show";
  } }, "Show"));
}

export async function variableEdit(ctx) {
  const path = ctx.params.path || "";
  const editing = Boolean(path);
  const ns = ctx.query.namespace || "default";
  ctx.title(editing ? `Edit ${path}` : "Create variable");
  let current = null;
  if (editing) current = await get(url(`/v1/var/${encPath(path)}`, { namespace: ns }), { signal: ctx.signal });
  const names = editing ? [ns] : await namespaceOptions(ctx.signal);
  const pathInput = h("input.input#var-path", { value: path || ctx.query.path || "", required: true, readonly: editing,
    placeholder: "e.g. nomad/jobs/web", "aria-label": "Path" });
  let namespace = ns;
  const rows = h("div");
  const addRow = (k = "", v = "") => {
    const row = h("div.row", { style: { marginBottom: "8px" } },
      h("input.input.var-key", { value: k, placeholder: "key", "aria-label": "Key" }),
      h("input.input.var-value", { value: v, placeholder: "value", "aria-label": "Value", style: { flex: "1" } }),
      h("button.btn.btn-ghost", { type: "button", "aria-label": "Remove item", onclick: () => row.remove() }, "Remove"));
    rows.append(row);
  };
  for (const [k, v] of Object.entries(current?.Items || {})) addRow(k, v);
  if (!rows.children.length) addRow();
  const errors = h("div");
  const form = h("form", { onsubmit: async (ev) => {
    ev.preventDefault();
    const items = {};
    for (const row of rows.children) {
      const k = row.querySelector(".var-key").value.trim();
      if (k) items[k] = row.querySelector(".var-value").value;
    }
    const p = pathInput.value.trim().replace(/^\/+|\/+$/g, "");
    try {
      if (!p) throw new Error("A path is required");
      if (!Object.keys(items).length) throw new Error("A variable needs at least one item");
      await put(url(`/v1/var/${encPath(p)}`, { namespace, cas: current ? current.ModifyIndex : 0 }),
        { Namespace: namespace, Path: p, Items: items });
      navigate(varHref({ Path: p, Namespace: namespace }).slice(3));
    } catch (err) {
      fill(errors, errorBox(err, "write this variable"));
    }
  } },
  field("Path", pathInput),
  editing ? null : field("Namespace", select(names.map((n) => [n, n]), namespace, (v) => { namespace = v; }, { "aria-label": "Namespace" })),
  h("div.field-label", { style: { margin: "4px 0 8px" } }, "Items"), rows,
  h("button.btn", { type: "button", onclick: () => addRow() }, "Add item"),
  errors,
  h("div.toolbar", { style: { marginTop: "16px", marginBottom: 0 } }, h("button.btn.btn-primary", { type: "submit" }, "Save"),
    h("a.btn.btn-ghost", { href: editing ? varHref({ Path: path, Namespace: ns }) : "/ui/variables" }, "Cancel")));
  ctx.el.append(editing ? pathCrumbs(path, false) : crumbs(["Variables", "/ui/variables"], ["New"]),
    pageHeader(editing ? `Edit ${path}` : "Create variable"), section(null, form));
}
