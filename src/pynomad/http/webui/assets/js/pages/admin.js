// Administration: ACL tokens, ACL policies and namespaces (list, create, inspect, delete).
import { h, fill, timestamp, shortId } from "../dom.js";
import { get, post, del, live } from "../api.js";
import { navigate } from "../router.js";
import { pageHeader, section, table, kv, field, errorBox, confirmButton, emptyState, select, codeBlock, badge } from "../components.js";
import { crumbs } from "../links.js";
import { session } from "../layout.js";

const AREAS = [
  ["tokens", "ACL tokens", "Tokens grant policies to the people and programs that call Nomad."],
  ["policies", "ACL policies", "Policies say which capabilities a token has, by namespace and resource."],
  ["namespaces", "Namespaces", "Namespaces keep jobs, variables and their permissions apart."],
];

export async function adminIndex(ctx) {
  ctx.title("Administration");
  ctx.el.append(pageHeader("Administration"),
    session.aclEnabled ? null : h("div.notice.tone-info", h("strong", "ACLs are disabled"),
      "Tokens and policies take effect once the agents run with acl { enabled = true }."),
    h("div.grid", AREAS.map(([key, title, text]) => section(title, [h("p.muted", { style: { marginTop: 0 } }, text),
      h("a.btn", { href: `/ui/administration/${key}` }, `Manage ${title.toLowerCase()}`)]))));
}

const adminCrumbs = (...rest) => crumbs(["Administration", "/ui/administration"], ...rest);

function submitForm(children, action) {
  const errors = h("div");
  return h("form", { onsubmit: async (ev) => {
    ev.preventDefault();
    fill(errors);
    try { await action(ev.target); } catch (err) { fill(errors, errorBox(err, "make this change")); }
  } }, children, errors);
}

// ---- tokens ----

export async function tokensList(ctx) {
  ctx.title("ACL tokens");
  const body = h("div");
  const policies = await get("/v1/acl/policies", { signal: ctx.signal }).catch(() => []);
  const name = h("input.input", { name: "name", placeholder: "Name", "aria-label": "Token name" });
  let type = "client";
  const policyBoxes = policies.map((p) => h("label.check", h("input", { type: "checkbox", value: p.Name }), p.Name));
  const form = submitForm([field("Name", name),
    field("Type", select([["client", "Client"], ["management", "Management"]], type, (v) => { type = v; }, { "aria-label": "Type" })),
    field("Policies", h("div", policyBoxes.length ? policyBoxes : h("span.muted.small", "No policies exist yet."))),
    h("button.btn.btn-primary", { type: "submit" }, "Create token")], async () => {
    const chosen = policyBoxes.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    const t = await post("/v1/acl/token", { Name: name.value.trim(), Type: type, Policies: type === "client" ? chosen : [] });
    navigate(`/administration/tokens/${t.AccessorID}`);
  });
  ctx.el.append(adminCrumbs(["ACL tokens"]), pageHeader("ACL tokens"), body, section("Create a token", form));
  await live(ctx, "/v1/acl/tokens", (list) => fill(body, h("div.cards-table", table([
    { title: "Name", render: (t) => h("a", { href: `/ui/administration/tokens/${t.AccessorID}` }, t.Name || "(unnamed)") },
    { title: "Accessor", class: "id", render: (t) => shortId(t.AccessorID) },
    { title: "Type", render: (t) => t.Type },
    { title: "Policies", render: (t) => (t.Policies || []).map((p) => h("span.tag", p)) },
    { title: "Created", class: "nowrap", render: (t) => timestamp(t.CreateTime) },
    { title: "Expires", class: "nowrap", render: (t) => (t.ExpirationTime ? timestamp(t.ExpirationTime) : "Never") },
  ], list, { rowHref: (t) => `/ui/administration/tokens/${t.AccessorID}`, label: "ACL tokens" }))));
}

export async function tokenPage(ctx) {
  const t = await get(`/v1/acl/token/${ctx.params.id}`, { signal: ctx.signal });
  ctx.title(`Token ${t.Name || shortId(t.AccessorID)}`);
  const secret = h("span.mono", "••••••••");
  ctx.el.append(adminCrumbs(["ACL tokens", "/ui/administration/tokens"], [t.Name || shortId(t.AccessorID)]),
    pageHeader(t.Name || "(unnamed token)", { badges: [badge(t.Type === "management" ? "success" : "client", t.Type)],
      actions: [confirmButton("Delete", async () => {
        await del(`/v1/acl/token/${t.AccessorID}`);
        navigate("/administration/tokens");
      }, { danger: true, confirm: "Yes, delete token" })] }),
    section("Token", kv([["Accessor ID", h("span.mono", t.AccessorID)],
      ["Secret ID", h("span.row", secret, h("button.btn.btn-small.btn-ghost", { onclick: (ev) => {
        const hidden = secret.textContent.startsWith("•");
        secret.textContent = hidden ? t.SecretID : "••••••••";
        ev.currentTarget.textContent = hidden ? "Hide" : "Show";
      } }, "Show"))],
      ["Policies", (t.Policies || []).map((p) => h("a.tag", { href: `/ui/administration/policies/${encodeURIComponent(p)}` }, p))],
      ["Global", t.Global ? "Yes" : "No"], ["Created", timestamp(t.CreateTime)],
      ["Expires", t.ExpirationTime ? timestamp(t.ExpirationTime) : "Never"]])));
}

// ---- policies ----

const POLICY_EXAMPLE = `namespace "default" {
  policy       = "read"
  capabilities = ["submit-job", "read-logs"]
}

node {
  policy = "read"
}`;

function policyForm(p) {
  const name = h("input.input", { value: p?.Name || "", readonly: Boolean(p), required: true, "aria-label": "Policy name" });
  const description = h("input.input", { value: p?.Description || "", "aria-label": "Description" });
  const rules = h("textarea.input", { rows: 12, spellcheck: "false", "aria-label": "Rules", placeholder: POLICY_EXAMPLE });
  rules.value = p?.Rules || "";
  return submitForm([field("Name", name), field("Description", description), field("Rules (HCL)", rules),
    h("button.btn.btn-primary", { type: "submit" }, p ? "Save policy" : "Create policy")], async () => {
    const n = name.value.trim();
    await post(`/v1/acl/policy/${encodeURIComponent(n)}`, { Name: n, Description: description.value, Rules: rules.value });
    navigate(`/administration/policies/${encodeURIComponent(n)}`);
  });
}

export async function policiesList(ctx) {
  ctx.title("ACL policies");
  const body = h("div");
  ctx.el.append(adminCrumbs(["ACL policies"]), pageHeader("ACL policies"), body, section("Create a policy", policyForm(null)));
  await live(ctx, "/v1/acl/policies", (list) => fill(body, list.length ? h("div.cards-table", table([
    { title: "Name", render: (p) => h("a", { href: `/ui/administration/policies/${encodeURIComponent(p.Name)}` }, p.Name) },
    { title: "Description", render: (p) => p.Description || "–" },
  ], list, { rowHref: (p) => `/ui/administration/policies/${encodeURIComponent(p.Name)}`, label: "ACL policies" }))
    : section(null, emptyState("No policies")))); 
}

export async function policyPage(ctx) {
  const p = await get(`/v1/acl/policy/${encodeURIComponent(ctx.params.name)}`, { signal: ctx.signal });
  ctx.title(`Policy ${p.Name}`);
  ctx.el.append(adminCrumbs(["ACL policies", "/ui/administration/policies"], [p.Name]),
    pageHeader(p.Name, { subtitle: p.Description, actions: [confirmButton("Delete", async () => {
      await del(`/v1/acl/policy/${encodeURIComponent(p.Name)}`);
      navigate("/administration/policies");
    }, { danger: true, confirm: "Yes, delete policy" })] }),
    section("Edit policy", policyForm(p)));
}

// ---- namespaces ----

export async function namespacesList(ctx) {
  ctx.title("Namespaces");
  const body = h("div");
  const name = h("input.input", { required: true, "aria-label": "Namespace name", placeholder: "e.g. prod" });
  const description = h("input.input", { "aria-label": "Description" });
  const form = submitForm([field("Name", name), field("Description", description),
    h("button.btn.btn-primary", { type: "submit" }, "Create namespace")], async () => {
    await post("/v1/namespace", { Name: name.value.trim(), Description: description.value });
    name.value = ""; description.value = "";
  });
  ctx.el.append(adminCrumbs(["Namespaces"]), pageHeader("Namespaces"), body, section("Create a namespace", form));
  await live(ctx, "/v1/namespaces", (list) => fill(body, h("div.cards-table", table([
    { title: "Name", render: (n) => h("a", { href: `/ui/administration/namespaces/${encodeURIComponent(n.Name)}` }, n.Name) },
    { title: "Description", render: (n) => n.Description || "–" },
  ], list, { rowHref: (n) => `/ui/administration/namespaces/${encodeURIComponent(n.Name)}`, label: "Namespaces" }))));
}

export async function namespacePage(ctx) {
  const n = await get(`/v1/namespace/${encodeURIComponent(ctx.params.name)}`, { signal: ctx.signal });
  ctx.title(`Namespace ${n.Name}`);
  ctx.el.append(adminCrumbs(["Namespaces", "/ui/administration/namespaces"], [n.Name]),
    pageHeader(n.Name, { subtitle: n.Description, actions: n.Name === "default" ? [] : [confirmButton("Delete", async () => {
      await del(`/v1/namespace/${encodeURIComponent(n.Name)}`);
      navigate("/administration/namespaces");
    }, { danger: true, confirm: "Yes, delete namespace" })] }),
    section("Namespace", kv([["Name", n.Name], ["Description", n.Description || "–"],
      ["Jobs", h("a", { href: `/ui/jobs?namespace=${encodeURIComponent(n.Name)}` }, "View jobs")]])),
    n.Meta && Object.keys(n.Meta).length ? section("Meta", codeBlock(JSON.stringify(n.Meta, null, 2))) : null);
}
