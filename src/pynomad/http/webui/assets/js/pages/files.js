// Browse an allocation's directory (or one task's): listings and file contents.
import { h, when, bytes, shortId } from "../dom.js";
import { get, request, url } from "../api.js";
import { section, table, errorBox, codeBlock, pageHeader } from "../components.js";
import { allocHref, taskHref, crumbs, jobHref } from "../links.js";
import { taskHead } from "./alloc.js";

const PREVIEW = 64 * 1024;

export async function filesPage(ctx) {
  const { alloc: id, task } = ctx.params;
  const rel = (ctx.params.path || "").replace(/^\/+|\/+$/g, "");
  const root = task ? `/${task}` : "";
  const full = `${root}/${rel}`.replace(/\/+$/, "") || "/";
  ctx.title(`Files · ${full}`);
  const a = await get(`/v1/allocation/${id}`, { signal: ctx.signal });
  const base = task ? taskHref(id, task, "fs") : allocHref(id, "fs");
  const hrefOf = (p) => `${base}/${p.split("/").map(encodeURIComponent).join("/")}`;
  ctx.el.append(...(task ? taskHead(a, task, "fs")
    : [crumbs(["Jobs", "/ui/jobs"], [a.JobID, jobHref(a.JobID, a.Namespace)], [shortId(id), allocHref(id)], ["Files"]),
      pageHeader(`Files of allocation ${shortId(id)}`)]));

  const parts = rel ? rel.split("/") : [];
  const trail = h("nav.fs-path", { "aria-label": "Path" },
    h("a", { href: base }, task ? task : "alloc dir"),
    parts.map((p, i) => [h("span.muted", "/"), i === parts.length - 1 ? h("strong", p)
      : h("a", { href: hrefOf(parts.slice(0, i + 1).join("/")) }, p)]));
  let info;
  try {
    info = await get(url(`/v1/client/fs/stat/${id}`, { path: full }), { signal: ctx.signal });
  } catch (err) {
    ctx.el.append(section("Files", [trail, errorBox(err, "browse this allocation's files")]));
    return;
  }
  if (info.IsDir) {
    const list = await get(url(`/v1/client/fs/ls/${id}`, { path: full }), { signal: ctx.signal });
    list.sort((x, y) => (y.IsDir - x.IsDir) || x.Name.localeCompare(y.Name));
    const path = (f) => (rel ? `${rel}/${f.Name}` : f.Name);
    ctx.el.append(section("Files", [trail, table([
      { title: "Name", render: (f) => h("a", { href: hrefOf(path(f)) }, h("span.fs-icon", { "aria-hidden": "true" }, f.IsDir ? "▸" : "·"), f.Name) },
      { title: "Size", class: "num", render: (f) => (f.IsDir ? "–" : bytes(f.Size)) },
      { title: "Mode", class: "mono hide-narrow", render: (f) => f.FileMode },
      { title: "Modified", class: "nowrap", render: (f) => when(f.ModTime) },
    ], list, { empty: "Empty directory", rowHref: (f) => hrefOf(path(f)), label: "Directory listing" })]));
    return;
  }
  const { data } = await request("GET", url(`/v1/client/fs/readat/${id}`, { path: full, offset: 0, limit: PREVIEW }),
    undefined, { signal: ctx.signal, text: true });
  ctx.el.append(section(info.Name, [trail,
    h("p.muted.small", `${bytes(info.Size)} · ${info.FileMode} · modified `, when(info.ModTime),
      info.Size > PREVIEW ? ` · showing the first ${bytes(PREVIEW)}` : ""),
    codeBlock(data || "(empty file)", "file-contents")]));
}
