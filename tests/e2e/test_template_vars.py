"""Templates with Nomad variables end to end: `nomad var put`, then a raw_exec batch job
whose template reads the variable and ranges over a list; its task cats the file."""

from __future__ import annotations

from conftest import Agent, wait_for, write_job

JOB = '''
job "tmpl" {
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
{{ with nomadVar "nomad/jobs/tmpl" }}pw={{ .password }}{{ end }}
{{- range $i, $name := split "," "a,b,c" }}
item{{ $i }}={{ $name | toUpper }}
{{- end }}
job={{ env "NOMAD_JOB_NAME" }}
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


def test_template_renders_nomad_variable(dev_agent: Agent) -> None:
    a = dev_agent
    a.nomad("var", "put", "-out=none", "nomad/jobs/tmpl", "password=s3cret")
    a.nomad("job", "run", "-detach", str(write_job(a.tmp, "tmpl.nomad.hcl", JOB)))
    allocs = a.wait_allocs("tmpl", lambda al: al and al[0]["ClientStatus"] == "complete",
                           what="tmpl alloc complete")
    alloc_id = allocs[0]["ID"]
    out = wait_for(lambda: a.nomad("alloc", "logs", alloc_id, "t").stdout,
                   what="task output")
    assert out == "pw=s3cret\nitem0=A\nitem1=B\nitem2=C\njob=tmpl\n"
