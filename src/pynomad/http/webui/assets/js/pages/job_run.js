// Run a job: paste or edit HCL (or JSON), plan it (diff and placement annotations), run it.
import { h, fill } from "../dom.js";
import { get, post, url, jobPath } from "../api.js";
import { navigate } from "../router.js";
import { pageHeader, section, errorBox, kv, emptyState } from "../components.js";
import { crumbs, jobHref } from "../links.js";
import { diffView, placementFailures } from "./shared.js";

const PLACEHOLDER = `job "example" {
  group "app" {
    task "server" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "while true; do date; sleep 5; done"]
      }
    }
  }
}`;

export async function runJob(ctx) {
  const editing = ctx.query.job ? { ID: ctx.query.job, Namespace: ctx.query.namespace || "default" } : null;
  ctx.title(editing ? `Edit ${editing.ID}` : "Run job");
  let source = "";
  let format = "hcl2";
  if (editing) ({ source, format } = await currentSource(ctx, editing));

  const editor = h("textarea.input.editor#job-editor", { rows: 24, spellcheck: "false", placeholder: PLACEHOLDER,
    "aria-label": "Job definition" });
  editor.value = source;
  const result = h("div");
  const file = h("input", { type: "file", accept: ".hcl,.nomad,.json,text/plain", hidden: true,
    onchange: async () => { if (file.files[0]) editor.value = await file.files[0].text(); } });
  const planBtn = h("button.btn.btn-primary", { type: "submit" }, "Plan");

  const form = h("form", { onsubmit: async (ev) => {
    ev.preventDefault();
    planBtn.disabled = true;
    try {
      await plan(ctx, editor.value, editing, result, editor);
    } finally {
      planBtn.disabled = false;
    }
  } },
  section(editing ? "Job definition" : "Paste or write a job definition (HCL or JSON)", [
    editor,
    h("div.toolbar", { style: { marginTop: "12px", marginBottom: "0" } }, planBtn,
      h("button.btn", { type: "button", onclick: () => file.click() }, "Upload file"), file,
      editing ? null : h("button.btn.btn-ghost", { type: "button", onclick: () => { editor.value = PLACEHOLDER; } }, "Insert example"),
      h("span.muted.small", format === "json" ? "Loaded as JSON" : "HCL2 job specification")),
  ]));
  ctx.el.append(
    crumbs(["Jobs", "/ui/jobs"],
      ...(editing ? [[editing.ID, jobHref(editing.ID, editing.Namespace)], ["Edit"]] : [["Run job"]])),
    pageHeader(editing ? `Edit ${editing.ID}` : "Run a job"),
    form, result);
}

async function currentSource(ctx, key) {
  const job = await get(jobPath(key), { signal: ctx.signal });
  try {
    const sub = await get(jobPath(key, "submission", { version: job.Version }), { signal: ctx.signal });
    if (sub?.Source) return { source: sub.Source, format: sub.Format === "json" ? "json" : "hcl2" };
  } catch { /* registered without a submission */ }
  return { source: JSON.stringify(job, null, 2), format: "json" };
}

// Text → the job it defines (HCL through /v1/jobs/parse; JSON as is, bare or {"Job": ...}).
async function parse(text, namespace) {
  const trimmed = text.trim();
  if (!trimmed) throw new Error("The job definition is empty");
  if (trimmed.startsWith("{")) {
    let data;
    try { data = JSON.parse(trimmed); } catch (err) { throw new Error(`Invalid JSON: ${err.message}`); }
    return { job: data.Job || data, submission: { Source: text, Format: "json" } };
  }
  const job = await post(url("/v1/jobs/parse", { namespace }), { JobHCL: text, Canonicalize: true });
  return { job, submission: { Source: text, Format: "hcl2" } };
}

async function plan(ctx, text, editing, result, editor) {
  let parsed;
  fill(result);
  try {
    parsed = await parse(text, editing?.Namespace);
    if (editing && parsed.job.ID !== editing.ID) {
      throw new Error(`This page edits job "${editing.ID}"; the definition names "${parsed.job.ID}"`);
    }
  } catch (err) {
    fill(result, section("Plan", errorBox(err, "parse jobs")));
    return;
  }
  const { job, submission } = parsed;
  const ns = job.Namespace || editing?.Namespace || "default";
  let planned;
  try {
    planned = await post(url(`/v1/job/${encodeURIComponent(job.ID)}/plan`, { namespace: ns }),
      { Job: job, Diff: true, PolicyOverride: false });
  } catch (err) {
    fill(result, section("Plan", errorBox(err, "plan this job")));
    return;
  }
  const runBtn = h("button.btn.btn-primary#run-job", { onclick: async () => {
    runBtn.disabled = true;
    try {
      await post(url("/v1/jobs", { namespace: ns }), { Job: job, Submission: submission,
        EnforceIndex: true, JobModifyIndex: planned.JobModifyIndex || 0 });
      navigate(jobHref(job.ID, ns).slice(3));
    } catch (err) {
      runBtn.disabled = false;
      fill(errors, errorBox(err, "run this job"));
    }
  } }, "Run");
  const errors = h("div");
  const desired = planned.Annotations?.DesiredTGUpdates || {};
  fill(result, section(`Plan for job "${job.ID}"`, [
    planned.Warnings ? h("div.notice.tone-warn", h("strong", "Warnings"), planned.Warnings) : null,
    placementFailures(planned.FailedTGAllocs),
    h("h3.small.muted", { style: { margin: "0 0 8px" } }, "Changes"),
    diffView(planned.Diff, desired),
    Object.keys(desired).length ? h("div", { style: { marginTop: "14px" } }, h("h3.small.muted", { style: { margin: "0 0 8px" } }, "Scheduler dry-run"),
      kv(Object.entries(desired).map(([g, u]) => [g, placementText(u)]))) : emptyState("No task groups to place"),
    errors,
    h("div.toolbar", { style: { marginTop: "16px", marginBottom: "0" } }, runBtn,
      h("button.btn", { onclick: () => { fill(result); editor.focus(); } }, "Cancel")),
  ], { id: "plan-result" }));
  runBtn.focus();
}

function placementText(u) {
  const parts = [["Place", "create"], ["DestructiveUpdate", "destroy and create"], ["InPlaceUpdate", "in-place update"],
    ["Stop", "stop"], ["Migrate", "migrate"], ["Canary", "canary"], ["Ignore", "ignore"], ["Preemptions", "preempt"]]
    .filter(([k]) => u[k]).map(([k, label]) => `${u[k]} ${label}`);
  return parts.join(", ") || "no changes";
}
