"""Templates with Nomad native services end to end: a raw_exec service job registers
"web" (provider = "nomad"), then a batch job's template ranges over `nomadService "web"`
and `nomadServices`; its task cats the rendered file."""

from __future__ import annotations

from conftest import Agent, wait_for, write_job

SVC = """
job "svc" {
  datacenters = ["dc1"]
  group "g" {
    network {
      port "http" {}
    }
    service {
      name     = "web"
      port     = "http"
      provider = "nomad"
      tags     = ["v1", "e2e"]
    }
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "exec sleep 300"]
      }
    }
  }
}
"""

READER = '''
job "reader" {
  datacenters = ["dc1"]
  type        = "batch"
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/cat"
        args    = ["${NOMAD_TASK_DIR}/out.txt"]
      }
      template {
        destination = "local/out.txt"
        data        = <<EOT
{{- range nomadService "web" }}
web {{ .Address }}:{{ .Port }} {{ .AllocID }} {{ .JobID }} {{ .Namespace }} {{ .Tags }}
{{- end }}
{{- range nomadService "v1.web" }}
tagged {{ .ServiceName }}
{{- end }}
{{- range nomadService 1 (env "NOMAD_ALLOC_ID") "web" }}
chosen {{ .ID }}
{{- end }}
{{- range nomadService "nope.web" }}
never
{{- end }}
{{- range nomadServices }}
service {{ .Name }} {{ .Tags }}
{{- end }}
EOT
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
'''


def test_template_renders_nomad_services(dev_agent: Agent) -> None:
    a = dev_agent
    a.nomad("job", "run", "-detach", str(write_job(a.tmp, "svc.nomad.hcl", SVC)))
    reg = wait_for(lambda: a.get("/v1/service/web"), 60, what="web registered")[0]
    a.nomad("job", "run", "-detach", str(write_job(a.tmp, "reader.nomad.hcl", READER)))
    allocs = a.wait_allocs("reader", lambda al: al and al[0]["ClientStatus"] == "complete",
                           what="reader alloc complete")
    out = wait_for(lambda: a.nomad("alloc", "logs", allocs[0]["ID"], "t").stdout,
                   what="task output")
    assert out == (f"\nweb {reg['Address']}:{reg['Port']} {reg['AllocID']} svc default "
                   "[e2e v1]\ntagged web\n"
                   f"chosen {reg['ID']}\n"
                   "service web [e2e v1]\n")
