// URLs of the UI's pages for API objects (Nomad's: jobs are "<id>@<namespace>").
import { h, shortId } from "./dom.js";

const enc = (s) => encodeURIComponent(s).replace(/%40/g, "@");

export const jobKey = (id, ns = "default") => `${id}@${ns || "default"}`;

export function parseJobKey(key) {
  const at = key.lastIndexOf("@");
  return at > 0 ? { ID: key.slice(0, at), Namespace: key.slice(at + 1) } : { ID: key, Namespace: "default" };
}

export const jobHref = (id, ns, tab = "") =>
  `/ui/jobs/${enc(jobKey(id, ns))}${tab ? `/${tab}` : ""}`;
export const groupHref = (id, ns, group) => `/ui/jobs/${enc(jobKey(id, ns))}/${enc(group)}`;
export const allocHref = (id, rest = "") => `/ui/allocations/${id}${rest ? `/${rest}` : ""}`;
export const taskHref = (alloc, task, rest = "") =>
  `/ui/allocations/${alloc}/${enc(task)}${rest ? `/${rest}` : ""}`;
export const nodeHref = (id) => `/ui/clients/${id}`;
export const evalHref = (id) => `/ui/evaluations?eval=${id}`;

export const jobLink = (id, ns, text) => h("a", { href: jobHref(id, ns) }, text ?? id);
export const allocLink = (id) => h("a.mono", { href: allocHref(id), title: id }, shortId(id));
export const nodeLink = (id, name) => h("a", { href: nodeHref(id), title: id }, name || shortId(id));

export function crumbs(...items) {
  const out = [];
  items.filter(Boolean).forEach(([text, link], i) => {
    if (i) out.push(h("span.sep", "/"));
    out.push(link ? h("a", { href: link }, text) : h("span", text));
  });
  return h("nav.breadcrumbs", { "aria-label": "Breadcrumb" }, out);
}
