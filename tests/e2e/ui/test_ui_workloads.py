"""The web UI in Chromium against a dev agent running a raw_exec job: jobs list, job and
allocation pages, logs that follow, running a job from the editor (plan, then run), exec in
a terminal, the other pages rendering their data, and draining the client from its page."""

from __future__ import annotations

import re
import urllib.request

import pytest
from playwright.sync_api import expect

from uihelp import WEB_JOB, browser, new_page, run_job, shots_dir, start_agent, wait_for  # noqa: F401

RUN_HCL = '''job "uirun" {
  datacenters = ["dc1"]
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo started-from-the-ui; sleep 3600"]
      }
    }
  }
}
'''


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui-agent")
    a = start_agent(tmp, extra_hcl='ui {\n  label {\n    text = "E2E Cluster"\n  }\n}\n')
    run_job(a, tmp, "web.hcl", WEB_JOB)
    a.wait_allocs("web", lambda al: sum(x["ClientStatus"] == "running" for x in al) == 2)
    yield a
    a.stop()


@pytest.fixture
def ui(browser, agent, shots_dir):
    page = new_page(browser, agent, shots_dir)
    yield page
    page.page.context.close()


def running_alloc(agent) -> dict:
    return next(a for a in agent.allocs("web") if a["ClientStatus"] == "running")


def test_root_redirects_to_the_ui_which_sends_a_csp(agent):
    with urllib.request.urlopen(agent.addr + "/") as resp:
        assert resp.url.endswith("/ui/")
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        body = resp.read().decode()
    assert '<script type="module" src="/ui/assets/js/main.js">' in body
    assert "E2E Cluster" in body


def test_jobs_list_shows_the_running_job(ui):
    page = ui.goto("/ui/jobs")
    row = page.locator("table tbody tr", has_text="web")
    expect(row.locator(".badge")).to_have_text(re.compile("running", re.I))
    expect(row.locator(".sbar")).to_have_attribute("aria-label", re.compile("2 running"))
    expect(page.locator(".cluster-label")).to_have_text("E2E Cluster")
    page.fill("input[type=search][aria-label='Search jobs']", "nothing-like-this")
    expect(page.get_by_text("No jobs match the filters")).to_be_visible()
    ui.shot("jobs-list")
    ui.assert_clean()


def test_job_page_shows_its_allocations_and_groups(ui, agent):
    page = ui.goto("/ui/jobs/web@default")
    expect(page.locator("h1")).to_have_text("web")
    allocs = page.locator("section", has=page.locator("h2", has_text="Recent allocations")).locator("tbody tr")
    expect(allocs).to_have_count(2)
    expect(allocs.first.locator(".badge")).to_have_text(re.compile("running", re.I))
    expect(page.locator("section", has_text="Task groups").locator("tbody tr", has_text="frontend")).to_be_visible()
    ui.shot("job-overview")
    for tab in ("definition", "versions", "allocations", "evaluations", "clients", "deployments"):
        ui.goto(f"/ui/jobs/web@default/{tab}")
        expect(page.locator(".tab.active")).to_have_text(re.compile(tab, re.I))
        ui.shot(f"job-{tab}")
    expect(page.locator("#latest-deployment .badge").first).to_be_visible()
    ui.goto("/ui/jobs/web@default/definition")
    expect(page.locator("pre.definition")).to_contain_text('"frontend"')
    ui.goto("/ui/jobs/web@default/frontend")
    expect(page.locator("h1")).to_have_text("frontend")
    ui.shot("task-group")
    ui.assert_clean()


def test_allocation_page_shows_the_running_task_and_its_logs_follow(ui, agent):
    alloc = running_alloc(agent)
    page = ui.goto(f"/ui/allocations/{alloc['ID']}")
    tasks = page.locator("section", has=page.locator("h2", has_text="Tasks"))
    expect(tasks.locator("tbody tr", has_text="server").locator(".badge")).to_have_text(re.compile("running", re.I))
    expect(page.locator(".chart")).to_have_count(2)
    ui.shot("allocation")
    tasks.get_by_role("link", name="Logs").click()
    out = page.locator("#log-output")
    expect(out).to_contain_text("tick-")
    first = max(int(n) for n in re.findall(r"tick-(\d+)", out.inner_text()))
    # following: lines written after the page opened arrive without a reload
    expect(out).to_contain_text(f"tick-{first + 2}", timeout=30_000)
    ui.shot("logs")
    page.get_by_role("button", name="Head").click()
    expect(out).to_contain_text("tick-0")
    page.get_by_role("button", name="stderr").click()
    expect(page.get_by_text("No stderr output")).to_be_visible()
    ui.goto(f"/ui/allocations/{alloc['ID']}/server")
    expect(page.locator("section", has_text="Recent events").locator("tbody tr", has_text="Started")).to_be_visible()
    ui.goto(f"/ui/allocations/{alloc['ID']}/server/fs/local")
    ui.goto(f"/ui/allocations/{alloc['ID']}/fs/alloc/logs")
    expect(page.locator("table tbody tr", has_text="server.stdout.0")).to_be_visible()
    page.locator("a", has_text="server.stdout.0").click()
    expect(page.locator("pre.file-contents")).to_contain_text("tick-0")
    ui.shot("files")
    ui.assert_clean()


def test_exec_prints_the_output_of_a_command(ui, agent):
    alloc = running_alloc(agent)
    page = ui.goto(f"/ui/allocations/{alloc['ID']}/server/exec")
    expect(page.locator("#exec-command")).to_have_value("/bin/sh")
    expect(page.get_by_text("Connected: /bin/sh")).to_be_visible()
    page.locator("#terminal .xterm").click()
    page.keyboard.type("echo ui-exec-$((40+2))\n")
    expect(page.locator("#terminal .xterm-rows")).to_contain_text("ui-exec-42")
    ui.shot("exec")
    page.keyboard.type("exit 3\n")
    expect(page.get_by_text("Exited with code 3", exact=True)).to_be_visible()
    ui.assert_clean()


def test_run_a_job_from_the_editor_plan_then_run(ui, agent):
    page = ui.goto("/ui/jobs/run")
    page.fill("#job-editor", "job \"broken\" {\n  group \"g\" {\n")
    page.get_by_role("button", name="Plan").click()
    expect(page.locator("#content .notice.tone-bad")).to_be_visible()
    assert agent.request("GET", "/v1/job/broken")[0] == 404
    ui.allow(r"status of 400")
    page.fill("#job-editor", RUN_HCL)
    page.get_by_role("button", name="Plan").click()
    plan = page.locator("#plan-result")
    expect(plan).to_contain_text('Job: "uirun"')
    expect(plan).to_contain_text("1 create")
    ui.shot("run-plan")
    assert agent.request("GET", "/v1/job/uirun")[0] == 404  # planning changes nothing
    page.locator("#run-job").click()
    expect(page).to_have_url(re.compile(r"/ui/jobs/uirun@default$"))
    allocs = page.locator("section", has=page.locator("h2", has_text="Recent allocations")).locator("tbody tr")
    expect(allocs.first.locator(".badge")).to_have_text(re.compile("running", re.I), timeout=60_000)
    sub = agent.get("/v1/job/uirun/submission?version=0")
    assert "started-from-the-ui" in sub["Source"]
    ui.shot("run-result")
    # scale from the task group page (once the first deployment is done), then stop the job
    wait_for(lambda: (agent.get("/v1/job/uirun/deployment") or {}).get("Status") == "successful", 60,
             what="first deployment of uirun successful")
    ui.goto("/ui/jobs/uirun@default/g")
    page.get_by_role("button", name="Increase count").click()
    page.get_by_role("button", name="Scale").click()
    expect(page.locator(".toast", has_text="Scaled g to 2")).to_be_visible()
    wait_for(lambda: agent.get("/v1/job/uirun")["TaskGroups"][0]["Count"] == 2, 30, what="scaled to 2")
    ui.goto("/ui/jobs/uirun@default")
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_role("button", name="Yes, stop job").click()
    expect(page.locator(".page-title .badge", has_text="Stopped")).to_be_visible()
    assert agent.get("/v1/job/uirun")["Stop"] is True
    ui.assert_clean()


def test_cluster_pages_render_their_data(ui, agent):
    node = agent.get("/v1/nodes")[0]
    page = ui.goto("/ui/clients")
    expect(page.locator("tbody tr", has_text=node["Name"]).locator(".badge").first).to_have_text(re.compile("ready", re.I))
    ui.shot("clients")
    ui.goto(f"/ui/clients/{node['ID']}")
    expect(page.locator("section", has_text="Drivers").locator("tbody tr", has_text="raw_exec")).to_be_visible()
    expect(page.locator("section", has_text="Allocations").locator("tbody tr", has_text="web")).to_have_count(2)
    ui.shot("client")
    ui.goto("/ui/servers")
    expect(page.locator("tbody tr").first.locator(".badge", has_text="Leader")).to_be_visible()
    ui.shot("servers")
    ui.goto("/ui/topology")
    expect(page.locator(".topo-node", has_text=node["Name"]).locator(".topo-alloc")).to_have_count(4)
    page.locator(".topo-alloc").first.click()
    expect(page.get_by_role("link", name="Open allocation")).to_be_visible()
    ui.shot("topology")
    ui.goto("/ui/evaluations")
    expect(page.locator("tbody tr", has_text="job-register").first).to_be_visible()
    ev = agent.get("/v1/evaluations")[0]
    ui.goto(f"/ui/evaluations?eval={ev['ID']}")
    expect(page.locator("#eval-detail")).to_contain_text(ev["ID"])
    ui.shot("evaluations")
    ui.assert_clean()


def test_variables_can_be_created_browsed_and_deleted(ui, agent):
    page = ui.goto("/ui/variables/new")
    page.fill("#var-path", "app/settings")
    page.fill(".var-key", "colour")
    page.fill(".var-value", "green")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/ui/variables/var/app/settings"))
    assert agent.get("/v1/var/app/settings")["Items"] == {"colour": "green"}
    ui.goto("/ui/variables")
    page.get_by_role("link", name="app/").click()
    expect(page.locator("tbody tr", has_text="settings")).to_be_visible()
    ui.shot("variables")
    ui.goto("/ui/variables/var/app/settings")
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page).to_have_url(re.compile(r"/ui/variables$"))
    assert agent.request("GET", "/v1/var/app/settings")[0] == 404
    ui.assert_clean()


def test_narrow_window_and_keyboard(browser, agent, shots_dir):
    ui = new_page(browser, agent, shots_dir, width=420, height=860)
    page = ui.goto("/ui/jobs")
    expect(page.locator("#sidebar")).not_to_be_in_viewport()
    page.get_by_role("button", name="Menu").click()
    expect(page.locator("#sidebar")).to_be_in_viewport()
    page.get_by_role("link", name="Clients").click()
    expect(page.locator("h1")).to_have_text("Clients")
    expect(page.locator("#sidebar")).not_to_be_in_viewport()
    ui.shot("narrow-clients")
    page.keyboard.press("/")
    expect(page.locator("input.topsearch")).to_be_focused()
    page.keyboard.type("web")
    expect(page.locator(".search-results a", has_text="web")).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/ui/jobs/web@default$"))
    ui.assert_clean()
    page.context.close()


def test_drain_the_client_from_its_page(ui, agent):
    node = agent.get("/v1/nodes")[0]
    page = ui.goto(f"/ui/clients/{node['ID']}")
    drain = page.locator("#drain")
    drain.get_by_label("Ignore system jobs").check()
    drain.get_by_role("button", name="Drain").click()
    expect(page.locator(".page-title .badge", has_text="Draining")).to_be_visible()
    spec = agent.get(f"/v1/node/{node['ID']}")["DrainStrategy"]
    assert spec["IgnoreSystemJobs"] is True and spec["Deadline"] == 3600 * 10**9
    ui.shot("client-draining")
    drain.get_by_role("button", name="Stop drain").click()
    expect(page.locator(".page-title .badge", has_text="Ineligible")).to_be_visible()
    page.get_by_role("switch", name="Eligible").click()
    expect(page.get_by_role("switch", name="Eligible")).to_have_attribute("aria-checked", "true")
    wait_for(lambda: agent.get(f"/v1/node/{node['ID']}")["SchedulingEligibility"] == "eligible", 30, what="eligible")
    ui.assert_clean()


def test_nomad_ui_prints_the_url_of_a_job(agent):
    out = agent.nomad("ui", "-show-url", "web").stdout
    assert out.strip() == f"URL for web UI: {agent.addr}/ui/jobs/web"
    alloc = running_alloc(agent)
    out = agent.nomad("ui", "-show-url", alloc["ID"][:8]).stdout
    assert out.strip() == f"URL for web UI: {agent.addr}/ui/allocations/{alloc['ID']}"
    bad = agent.nomad("ui", "-show-url", "no-such-thing", check=False)
    assert bad.returncode == 1 and 'Unable to resolve ID: "no-such-thing"' in bad.stderr
