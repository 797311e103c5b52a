// Evaluations: every evaluation with filters; ?eval=<id> opens one with its placement failures.
import { h, fill, when, shortId, timestamp, pluralize } from "../dom.js";
import { get, live, url } from "../api.js";
import { setQuery } from "../router.js";
import { badge, pageHeader, section, kv, select, searchInput, errorBox } from "../components.js";
import { jobHref, nodeHref, evalHref } from "../links.js";
import { evalTable } from "./job_tabs.js";
import { placementFailures, allocTable } from "./shared.js";

const PAGE = 50;

export async function evaluationsList(ctx) {
  ctx.title("Evaluations");
  const f = { status: ctx.query.status || "", type: ctx.query.type || "", search: ctx.query.search || "", page: 0 };
  let evals = [];
  const detail = h("div");
  const body = h("div");
  const count = h("span.count");
  const set = (k) => (v) => { f[k] = v; f.page = 0; setQuery({ [k]: v }); redraw(); };
  const redraw = () => {
    const term = f.search.toLowerCase();
    const shown = evals.filter((e) => (!f.status || e.Status === f.status) && (!f.type || e.Type === f.type) &&
      (!term || e.ID.startsWith(term) || e.JobID.toLowerCase().includes(term) || (e.TriggeredBy || "").includes(term)));
    count.textContent = pluralize(shown.length, "evaluation");
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    f.page = Math.min(f.page, pages - 1);
    fill(body, h("div.cards-table", evalTable(shown.slice(f.page * PAGE, (f.page + 1) * PAGE), { job: true })),
      pages > 1 ? h("div.toolbar", { style: { marginTop: "12px" } },
        h("button.btn.btn-small", { disabled: f.page === 0, onclick: () => { f.page--; redraw(); } }, "Previous"),
        h("span.muted.small", `Page ${f.page + 1} of ${pages}`),
        h("button.btn.btn-small", { disabled: f.page >= pages - 1, onclick: () => { f.page++; redraw(); } }, "Next")) : null);
  };
  ctx.el.append(pageHeader("Evaluations"), detail,
    h("div.toolbar", searchInput(f.search, set("search"), "Search by ID, job or trigger"),
      h("label.filter-group", h("span", "Status"), select([["", "Any"], ...["blocked", "pending", "complete", "failed", "canceled"].map((s) => [s, s])], f.status, set("status"), { "aria-label": "Status" })),
      h("label.filter-group", h("span", "Type"), select([["", "Any"], ...["service", "batch", "system", "sysbatch", "_core"].map((s) => [s, s])], f.type, set("type"), { "aria-label": "Type" })),
      count),
    body);
  const waits = [live(ctx, url("/v1/evaluations", { namespace: "*" }), (data) => {
    evals = data.sort((a, b) => b.CreateIndex - a.CreateIndex);
    redraw();
  })];
  if (ctx.query.eval) waits.push(evalDetail(ctx, ctx.query.eval, detail));
  await Promise.all(waits);
}

async function evalDetail(ctx, id, slot) {
  let e;
  try {
    e = await get(`/v1/evaluation/${id}?related=true`, { signal: ctx.signal });
  } catch (err) {
    fill(slot, errorBox(err, "read this evaluation"));
    return;
  }
  const allocs = await get(`/v1/evaluation/${id}/allocations`, { signal: ctx.signal }).catch(() => []);
  const link = (eid) => (eid ? h("a.mono", { href: evalHref(eid) }, shortId(eid)) : "–");
  fill(slot, section(`Evaluation ${shortId(e.ID)}`, [
    kv([["ID", h("span.mono", e.ID)], ["Status", h("span", badge(e.Status), e.StatusDescription ? ` ${e.StatusDescription}` : "")],
      ["Job", h("a", { href: jobHref(e.JobID, e.Namespace) }, e.JobID)], ["Namespace", e.Namespace],
      ["Type", e.Type], ["Priority", String(e.Priority)], ["Triggered by", e.TriggeredBy],
      e.NodeID ? ["Client", h("a", { href: nodeHref(e.NodeID) }, shortId(e.NodeID))] : null,
      e.DeploymentID ? ["Deployment", h("span.mono", shortId(e.DeploymentID))] : null,
      ["Created", timestamp(e.CreateTime)], ["Modified", when(e.ModifyTime)],
      ["Previous", link(e.PreviousEval)], ["Next", link(e.NextEval)], ["Blocked", link(e.BlockedEval)],
      ["Queued allocations", Object.entries(e.QueuedAllocations || {}).map(([g, n]) => `${g}: ${n}`).join(", ") || "–"]]),
    h("div", { style: { marginTop: "14px" } }, placementFailures(e.FailedTGAllocs)),
    allocs.length ? h("div", h("h3.small.muted", { style: { margin: "14px 0 8px" } }, "Allocations placed by this evaluation"),
      allocTable(allocs, { job: true })) : null,
  ], { id: "eval-detail", actions: [h("a.btn.btn-small.btn-ghost", { href: "/ui/evaluations" }, "Close")] }));
}
