// A task group of a job: counts, scaling, tasks, allocations.
import { h, fill, mhz, mib } from "../dom.js";
import { get, post, live, jobPath } from "../api.js";
import { pageHeader, section, table, summaryBar, kv, emptyState, badge, toast } from "../components.js";
import { crumbs, jobHref } from "../links.js";
import { allocTable, resourcesOf, metaTable } from "./shared.js";

export async function groupPage(ctx, key, groupName) {
  ctx.title(`${groupName} · ${key.ID}`);
  const job = await get(jobPath(key), { signal: ctx.signal });
  const group = (job.TaskGroups || []).find((g) => g.Name === groupName);
  if (!group) {
    ctx.el.append(emptyState("Task group not found", `Job ${job.ID} has no task group "${groupName}".`));
    return;
  }
  const summarySlot = h("div");
  const allocSlot = h("div");
  const res = resourcesOf(group);
  ctx.el.append(
    crumbs(["Jobs", "/ui/jobs"], [job.ID, jobHref(job.ID, job.Namespace)], [group.Name]),
    pageHeader(group.Name, { subtitle: `Task group of ${job.ID}`, badges: [badge(job.Status)] }),
    h("div.grid",
      section("Details", kv([["Count", String(group.Count)], ["Reserved CPU", mhz(res.cpu)],
        ["Reserved memory", mib(res.memory)], ["Ephemeral disk", mib(res.disk)],
        ["Restart policy", group.RestartPolicy ? `${group.RestartPolicy.Attempts} attempts, ${group.RestartPolicy.Mode}` : "–"],
        ["Reschedule", group.ReschedulePolicy ? `${group.ReschedulePolicy.Unlimited ? "unlimited" : `${group.ReschedulePolicy.Attempts} attempts`}` : "–"]])),
      job.Type === "system" || job.Type === "sysbatch" ? null : section("Scale", scaleForm(job, group))),
    summarySlot,
    section("Tasks", table([
      { title: "Name", render: (t) => t.Name },
      { title: "Driver", render: (t) => t.Driver },
      { title: "Lifecycle", render: (t) => t.Lifecycle ? `${t.Lifecycle.Hook}${t.Lifecycle.Sidecar ? " (sidecar)" : ""}` : "main" },
      { title: "CPU", class: "num", render: (t) => mhz(t.Resources?.CPU) },
      { title: "Memory", class: "num", render: (t) => mib(t.Resources?.MemoryMB) },
    ], group.Tasks || [], { label: "Tasks" })),
    group.Meta && Object.keys(group.Meta).length ? section("Meta", metaTable(group.Meta)) : null,
    allocSlot);
  await Promise.all([
    live(ctx, jobPath(job, "summary"), (s) => fill(summarySlot,
      section("Allocation summary", summaryBar(s.Summary?.[group.Name] || {}, { legend: true })))),
    live(ctx, jobPath(job, "allocations"), (allocs) => fill(allocSlot,
      section("Allocations", allocTable(allocs.filter((a) => a.TaskGroup === group.Name), { group: false, spec: job })))),
  ]);
}

export function scaleForm(job, group) {
  const scaling = group.Scaling;
  const min = scaling?.Min ?? 0;
  const max = scaling?.Max ?? undefined;
  const input = h("input.input", { type: "number", min, max, value: group.Count, "aria-label": `Count of ${group.Name}`,
    style: { width: "90px" } });
  const step = (d) => { input.value = Math.max(min, Number(input.value) + d); };
  return h("form.row", { onsubmit: async (ev) => {
    ev.preventDefault();
    const count = Number(input.value);
    try {
      await post(jobPath(job, "scale"), { Count: count, Target: { Group: group.Name }, Message: "submitted using the Nomad UI" });
      toast(`Scaled ${group.Name} to ${count}`, "good");
    } catch (err) {
      toast(`Scaling failed: ${err.message}`, "bad");
    }
  } },
  h("button.btn", { type: "button", "aria-label": "Decrease count", onclick: () => step(-1) }, "−"),
  input,
  h("button.btn", { type: "button", "aria-label": "Increase count", onclick: () => step(1) }, "+"),
  h("button.btn.btn-primary", { type: "submit" }, "Scale"),
  scaling ? h("span.muted.small", `Min ${min}${max !== undefined ? `, max ${max}` : ""}`) : null);
}
