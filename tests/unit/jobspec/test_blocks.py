"""Each job-specification block maps to its API JSON fields."""

from __future__ import annotations

import pytest

from pynomad.jobspec import JobspecError

from .conftest import group, job, task

SEC = 1_000_000_000


def test_job_level_fields() -> None:
    j = job('''
      region = "global"
      namespace = "prod"
      type = "batch"
      priority = 70
      all_at_once = true
      datacenters = ["dc1", "dc2"]
      node_pool = "gpu"
      consul_token = "c"
      vault_token = "v"
      meta {
        owner = "me"
        n = 3
      }
    ''')
    assert (j["Region"], j["Namespace"], j["Type"], j["Priority"], j["AllAtOnce"]) == ("global", "prod", "batch", 70, True)
    assert j["Datacenters"] == ["dc1", "dc2"] and j["NodePool"] == "gpu"
    assert (j["ConsulToken"], j["VaultToken"]) == ("c", "v")
    assert j["Meta"] == {"n": "3", "owner": "me"}
    assert j["ID"] == j["Name"] == "example"
    assert j["Dispatched"] is False and j["Stop"] is None and j["TaskGroups"] is None


def test_job_id_and_name_override_label() -> None:
    j = job('id = "other"\nname = "pretty"')
    assert (j["ID"], j["Name"]) == ("other", "pretty")


@pytest.mark.parametrize("body, want", [
    ('attribute = "${attr.os.name}"\nvalue = "linux"', ("${attr.os.name}", "linux", "=")),
    ('attribute = "${attr.os.name}"\noperator = "!="\nvalue = "linux"', ("${attr.os.name}", "linux", "!=")),
    ("distinct_hosts = true", ("", "true", "distinct_hosts")),
    ('operator = "distinct_hosts"\nvalue = "true"', ("", "true", "distinct_hosts")),
    ('distinct_property = "${meta.rack}"\nvalue = "2"', ("${meta.rack}", "2", "distinct_property")),
    ('attribute = "${attr.kernel.version}"\nversion = ">= 3.19"', ("${attr.kernel.version}", ">= 3.19", "version")),
    ('attribute = "${attr.a}"\nsemver = ">= 1.0"', ("${attr.a}", ">= 1.0", "semver")),
    ('attribute = "${attr.a}"\nregexp = "[a-z]+"', ("${attr.a}", "[a-z]+", "regexp")),
    ('attribute = "${meta.tags}"\nset_contains = "a,b"', ("${meta.tags}", "a,b", "set_contains")),
    ('attribute = "${meta.tags}"\noperator = "set_contains_any"\nvalue = "a,b"', ("${meta.tags}", "a,b", "set_contains_any")),
    # jobspec2 accepts set_contains_any as an attribute but ignores it
    ('attribute = "${meta.tags}"\nset_contains_any = "a,b"', ("${meta.tags}", "", "=")),
    ('attribute = "${attr.x}"\noperator = "is_set"', ("${attr.x}", "", "is_set")),
])
def test_constraint_forms(body: str, want: tuple) -> None:
    (c,) = job("constraint {\n" + body + "\n}")["Constraints"]
    assert (c["LTarget"], c["RTarget"], c["Operand"]) == want


def test_affinity_and_spread() -> None:
    j = job('''
      affinity {
        attribute = "${node.datacenter}"
        value = "us-west1"
        weight = 100
      }
      affinity {
        attribute = "${meta.tags}"
        set_contains_any = "a,b"
        weight = -50
      }
      spread {
        attribute = "${node.datacenter}"
        weight = 100
        target "us-east1" {
          percent = 60
        }
        target "us-west1" {
          percent = 40
        }
      }
    ''')
    assert j["Affinities"] == [
        {"LTarget": "${node.datacenter}", "RTarget": "us-west1", "Operand": "=", "Weight": 100},
        {"LTarget": "${meta.tags}", "RTarget": "a,b", "Operand": "set_contains_any", "Weight": -50},
    ]
    assert j["Spreads"] == [{"Attribute": "${node.datacenter}", "Weight": 100, "SpreadTarget": [
        {"Value": "us-east1", "Percent": 60}, {"Value": "us-west1", "Percent": 40}]}]


def test_update_migrate_reschedule_durations() -> None:
    j = job('''
      update {
        max_parallel = 2
        health_check = "checks"
        min_healthy_time = "10s"
        healthy_deadline = "5m"
        progress_deadline = "1h30m"
        auto_revert = true
        auto_promote = true
        canary = 1
        stagger = "30s"
      }
      migrate {
        max_parallel = 1
        health_check = "task_states"
        min_healthy_time = "1.5s"
        healthy_deadline = 60000000000
      }
      reschedule {
        attempts = 3
        interval = "1h"
        delay = "30s"
        delay_function = "exponential"
        max_delay = "120s"
        unlimited = false
      }
    ''')
    assert j["Update"] == {"Stagger": 30 * SEC, "MaxParallel": 2, "HealthCheck": "checks", "MinHealthyTime": 10 * SEC,
                           "HealthyDeadline": 300 * SEC, "ProgressDeadline": 5400 * SEC, "Canary": 1,
                           "AutoRevert": True, "AutoPromote": True}
    assert j["Migrate"] == {"MaxParallel": 1, "HealthCheck": "task_states", "MinHealthyTime": 1_500_000_000,
                            "HealthyDeadline": 60 * SEC}
    assert j["Reschedule"] == {"Attempts": 3, "Interval": 3600 * SEC, "Delay": 30 * SEC,
                               "DelayFunction": "exponential", "MaxDelay": 120 * SEC, "Unlimited": False}


def test_periodic_and_parameterized() -> None:
    j = job('''
      periodic {
        cron = "*/15 * * * * *"
        prohibit_overlap = true
        time_zone = "America/New_York"
      }
      parameterized {
        payload = "required"
        meta_required = ["a"]
        meta_optional = ["b"]
      }
    ''')
    assert j["Periodic"] == {"Enabled": None, "Spec": "*/15 * * * * *", "Specs": None, "SpecType": "cron",
                             "ProhibitOverlap": True, "TimeZone": "America/New_York"}
    assert j["ParameterizedJob"] == {"Payload": "required", "MetaRequired": ["a"], "MetaOptional": ["b"]}
    assert job('periodic {\n crons = ["* * * * *"]\n}')["Periodic"]["SpecType"] == "cron"
    assert job("periodic {\n enabled = false\n}")["Periodic"]["SpecType"] is None


def test_multiregion() -> None:
    j = job('''
      multiregion {
        strategy {
          max_parallel = 1
          on_failure = "fail_all"
        }
        region "west" {
          count = 2
          datacenters = ["west-1"]
          node_pool = "default"
          meta {
            my-key = "my-value-west"
          }
        }
        region "east" {
          count = 1
        }
      }
    ''')
    assert j["Multiregion"] == {"Strategy": {"MaxParallel": 1, "OnFailure": "fail_all"}, "Regions": [
        {"Name": "west", "Count": 2, "Datacenters": ["west-1"], "NodePool": "default", "Meta": {"my-key": "my-value-west"}},
        {"Name": "east", "Count": 1, "Datacenters": None, "NodePool": "", "Meta": None}]}


def test_group_fields() -> None:
    g = group('''
      count = 3
      shutdown_delay = "6s"
      stop_after_client_disconnect = "1m"
      max_client_disconnect = "1h"
      restart {
        attempts = 2
        interval = "30m"
        delay = "15s"
        mode = "fail"
        render_templates = true
      }
      ephemeral_disk {
        migrate = true
        size = 500
        sticky = true
      }
      consul {
        namespace = "ns"
      }
      meta = {
        "a.b" = "c"
      }
    ''')
    assert g["Count"] == 3 and g["ShutdownDelay"] == 6 * SEC
    assert g["StopAfterClientDisconnect"] == 60 * SEC and g["MaxClientDisconnect"] == 3600 * SEC
    assert g["RestartPolicy"] == {"Interval": 1800 * SEC, "Attempts": 2, "Delay": 15 * SEC, "Mode": "fail",
                                  "RenderTemplates": True}
    assert g["EphemeralDisk"] == {"Sticky": True, "Migrate": True, "SizeMB": 500}
    assert g["Consul"] == {"Namespace": "ns"}
    assert g["Meta"] == {"a.b": "c"}


def test_network_ports_dns() -> None:
    g = group('''
      network {
        mode = "bridge"
        hostname = "h"
        port "http" {
          static = 8080
          to = 80
          host_network = "public"
        }
        port "dyn" {}
        dns {
          servers = ["1.1.1.1"]
          searches = ["local"]
          options = ["ndots:2"]
        }
      }
    ''')
    (net,) = g["Networks"]
    assert net["Mode"] == "bridge" and net["Hostname"] == "h" and net["MBits"] is None
    assert net["ReservedPorts"] == [{"Label": "http", "Value": 8080, "To": 80, "HostNetwork": "public"}]
    assert net["DynamicPorts"] == [{"Label": "dyn", "Value": 0, "To": 0, "HostNetwork": ""}]
    assert net["DNS"] == {"Servers": ["1.1.1.1"], "Searches": ["local"], "Options": ["ndots:2"]}


def test_only_static_ports_leave_dynamic_null() -> None:
    (net,) = group('network {\n port "a" {\n static = 1\n }\n}')["Networks"]
    assert net["DynamicPorts"] is None and net["ReservedPorts"][0]["Value"] == 1


def test_volumes_and_mounts() -> None:
    g = group('''
      volume "certs" {
        type = "host"
        source = "ca-certificates"
        read_only = true
      }
      volume "data" {
        type = "csi"
        source = "vol"
        access_mode = "single-node-writer"
        attachment_mode = "file-system"
        per_alloc = true
        mount_options {
          fs_type = "ext4"
          mount_flags = ["noatime"]
        }
      }
      task "t" {
        volume_mount {
          volume = "certs"
          destination = "/etc/ssl/certs"
          read_only = true
          propagation_mode = "private"
        }
      }
    ''')
    assert list(g["Volumes"]) == ["certs", "data"]
    assert g["Volumes"]["certs"] == {"Name": "certs", "Type": "host", "Source": "ca-certificates", "ReadOnly": True,
                                     "AccessMode": "", "AttachmentMode": "", "MountOptions": None, "PerAlloc": False}
    assert g["Volumes"]["data"]["MountOptions"] == {"FSType": "ext4", "MountFlags": ["noatime"]}
    assert g["Tasks"][0]["VolumeMounts"] == [{"Volume": "certs", "Destination": "/etc/ssl/certs", "ReadOnly": True,
                                              "PropagationMode": "private"}]


def test_task_fields() -> None:
    t = task('''
      driver = "exec"
      user = "nobody"
      leader = true
      kill_timeout = "20s"
      kill_signal = "SIGINT"
      shutdown_delay = "5s"
      kind = "connect-proxy:x"
      lifecycle {
        hook = "prestart"
        sidecar = true
      }
      logs {
        max_files = 3
        max_file_size = 10
        disabled = false
      }
      dispatch_payload {
        file = "config.json"
      }
      identity {
        env = true
      }
      restart {
        attempts = 1
      }
    ''')
    assert (t["Driver"], t["User"], t["Leader"], t["KillTimeout"], t["KillSignal"]) == ("exec", "nobody", True, 20 * SEC, "SIGINT")
    assert t["ShutdownDelay"] == 5 * SEC and t["Kind"] == "connect-proxy:x"
    assert t["Lifecycle"] == {"Hook": "prestart", "Sidecar": True}
    assert t["LogConfig"] == {"MaxFiles": 3, "MaxFileSizeMB": 10, "Enabled": None, "Disabled": False}
    assert t["DispatchPayload"] == {"File": "config.json"}
    assert t["Identity"] == {"Env": True, "File": False}
    assert t["RestartPolicy"]["Attempts"] == 1
    assert "CSIPluginConfig" not in t  # omitempty in Go


def test_csi_plugin() -> None:
    t = task('''
      csi_plugin {
        id = "ebs"
        type = "monolith"
        mount_dir = "/csi"
        health_timeout = "30s"
      }
    ''')
    keys = list(t)
    assert keys.index("CSIPluginConfig") == keys.index("VolumeMounts") + 1
    assert t["CSIPluginConfig"] == {"ID": "ebs", "Type": "monolith", "MountDir": "/csi", "StagePublishBaseDir": "",
                                    "HealthTimeout": 30 * SEC}


def test_resources_and_devices() -> None:
    t = task('''
      resources {
        cpu = 500
        cores = 2
        memory = 256
        memory_max = 512
        device "nvidia/gpu" {
          count = 2
          constraint {
            attribute = "${device.attr.memory}"
            operator = ">="
            value = "2 GiB"
          }
          affinity {
            attribute = "${device.model}"
            value = "1080ti"
            weight = 50
          }
        }
      }
    ''')
    r = t["Resources"]
    assert (r["CPU"], r["Cores"], r["MemoryMB"], r["MemoryMaxMB"], r["DiskMB"], r["IOPS"]) == (500, 2, 256, 512, None, None)
    (dev,) = r["Devices"]
    assert dev["Name"] == "nvidia/gpu" and dev["Count"] == 2
    assert dev["Constraints"][0]["Operand"] == ">=" and dev["Affinities"][0]["Weight"] == 50


def test_env_meta_blocks_and_arguments() -> None:
    t = task('''
      env {
        A = "1"
        B = 2
      }
      meta = {
        "x.y" = true
      }
    ''')
    assert t["Env"] == {"A": "1", "B": "2"} and t["Meta"] == {"x.y": "true"}
    assert task('env = {\n "K.V" = "x"\n}')["Env"] == {"K.V": "x"}


def test_env_both_forms_is_an_error() -> None:
    with pytest.raises(JobspecError, match="Duplicate env block"):
        task('env = { A = "1" }\nenv {\n B = "2"\n}')


def test_artifact() -> None:
    t = task('''
      artifact {
        source = "https://example.com/file.tgz"
        destination = "local/some-directory"
        mode = "any"
        options {
          checksum = "md5:df6a4178aec9fbdc1d6d7e3634d1bc33"
        }
        headers {
          User-Agent = "nomad"
        }
      }
    ''')
    assert t["Artifacts"] == [{"GetterSource": "https://example.com/file.tgz",
                               "GetterOptions": {"checksum": "md5:df6a4178aec9fbdc1d6d7e3634d1bc33"},
                               "GetterHeaders": {"User-Agent": "nomad"}, "GetterMode": "any",
                               "RelativeDest": "local/some-directory"}]


def test_template_defaults_and_change_script() -> None:
    t = task('''
      template {
        source = "local/a.tpl"
        destination = "local/a"
        change_mode = "script"
        change_script {
          command = "/bin/reload"
          fail_on_error = true
        }
        left_delimiter = "[["
        right_delimiter = "]]"
        env = true
        uid = 1000
        vault_grace = "15s"
      }
      template {
        data = "x"
        destination = "local/b"
        splay = "1m"
        perms = "0600"
        error_on_missing_key = true
      }
    ''')
    a, b = t["Templates"]
    assert a["ChangeMode"] == "script" and a["Perms"] == "0644" and a["Splay"] == 5 * SEC and a["ErrMissingKey"] is False
    assert a["ChangeScript"] == {"Command": "/bin/reload", "Args": [], "Timeout": 5 * SEC, "FailOnError": True}
    assert (a["LeftDelim"], a["RightDelim"], a["Envvars"], a["Uid"], a["VaultGrace"]) == ("[[", "]]", True, 1000, 15 * SEC)
    assert b["ChangeMode"] == "restart" and b["Perms"] == "0600" and b["Splay"] == 60 * SEC and b["ErrMissingKey"] is True


def test_vault_job_group_task_levels() -> None:
    j = job('''
      vault {
        policies = ["job"]
      }
      group "g" {
        vault {
          policies = ["group"]
          change_mode = "signal"
          change_signal = "SIGHUP"
        }
        task "a" {}
        task "b" {
          vault {
            policies = ["task"]
            env = false
          }
        }
      }
      group "h" {
        task "c" {}
      }
    ''')
    a, b = j["TaskGroups"][0]["Tasks"]
    c = j["TaskGroups"][1]["Tasks"][0]
    assert a["Vault"] == {"Policies": ["group"], "Namespace": None, "Env": True, "DisableFile": False,
                          "ChangeMode": "signal", "ChangeSignal": "SIGHUP"}
    assert b["Vault"]["Policies"] == ["task"] and b["Vault"]["Env"] is False
    assert c["Vault"]["Policies"] == ["job"] and c["Vault"]["ChangeMode"] == "restart"


def test_group_scaling() -> None:
    g = group('''
      scaling {
        min = 1
        max = 10
        enabled = true
        policy {
          cooldown = "1m"
          check "avg_cpu" {
            source = "prometheus"
            strategy "target-value" {
              target = 70
            }
          }
        }
      }
    ''')
    assert g["Scaling"]["Type"] == "horizontal" and (g["Scaling"]["Min"], g["Scaling"]["Max"]) == (1, 10)
    assert g["Scaling"]["Policy"] == {"check": [{"avg_cpu": [{"source": "prometheus",
                                                               "strategy": [{"target-value": [{"target": 70}]}]}]}],
                                      "cooldown": "1m"}


def test_group_scaling_requires_max() -> None:
    with pytest.raises(JobspecError, match='The argument "max" is required'):
        group("scaling {\n min = 1\n}")


def test_task_scaling_policies() -> None:
    t = task('''
      scaling "cpu" {
        enabled = true
        max = 500
        policy {
          cooldown = "5m"
        }
      }
      scaling "mem" {
        max = 1024
      }
    ''')
    assert [p["Type"] for p in t["ScalingPolicies"]] == ["vertical_cpu", "vertical_mem"]
    assert t["ScalingPolicies"][0]["Policy"] == {"cooldown": "5m"}
    with pytest.raises(JobspecError, match='scaling policy name must be "cpu" or "mem"'):
        task('scaling "gpu" {\n max = 1\n}')


def test_config_block_is_free_form() -> None:
    t = task('''
      driver = "docker"
      config {
        image = "redis:7"
        ports = ["db"]
        port_map = { db = 6379 }
        volumes = ["a:b"]
        logging {
          type = "syslog"
          config {
            tag = "redis"
          }
        }
        mount {
          type = "bind"
          target = "/x"
        }
        mount {
          type = "tmpfs"
        }
        ratio = 1.5
        whole = 2.0
        nothing = null
      }
    ''')
    assert t["Config"] == {
        "image": "redis:7", "logging": [{"config": [{"tag": "redis"}], "type": "syslog"}],
        "mount": [{"target": "/x", "type": "bind"}, {"type": "tmpfs"}], "nothing": None,
        "port_map": [{"db": 6379}], "ports": ["db"], "ratio": 1.5, "volumes": ["a:b"], "whole": 2,
    }
    assert list(t["Config"]) == sorted(t["Config"])
