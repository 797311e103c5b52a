"""Agent configuration: every block parsed and checked, positions in errors, merging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pynomad.agent.config import (AgentConfig, ConfigError, apply, dev_config, load_paths,
                                  startup_warnings)

FIXTURES = Path(__file__).parent / "fixtures"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_seed_server_config_loads() -> None:
    data = load_paths([str(FIXTURES / "server.hcl")])
    cfg = apply(AgentConfig(), data)
    assert cfg.name == "nomad_server_a" and cfg.server_enabled and not cfg.client_enabled
    assert cfg.server["server_join"]["retry_join"] == ["10.4.23.44", "10.4.54.112", "10.4.56.33"]
    assert cfg.server["default_scheduler_config"] == {"scheduler_algorithm": "spread"}
    assert cfg.extra["acl"]["token_ttl"] == "30s"
    assert cfg.extra["vault"]["create_from_role"] == "nomad-cluster"
    warnings = startup_warnings(cfg)
    assert any("tls.ca_file: file /etc/certs/ca.crt does not exist" in w for w in warnings)
    assert any("consul.verify_server_hostname ignored" in w and "server.hcl:72:3" in w for w in warnings)
    assert any("license_path" in w for w in warnings)


def test_seed_client_config_loads() -> None:
    cfg = apply(AgentConfig(), load_paths([str(FIXTURES / "client.hcl")]))
    assert cfg.client_enabled and not cfg.server_enabled
    assert cfg.advertise["rpc"] == "10.0.103.60"
    assert cfg.client["server_join"]["retry_join"] == ["provider=aws tag_key=nomad_cluster_id tag_value=us-east-1"]
    assert isinstance(startup_warnings(cfg), list)


def test_unknown_key_names_file_line_col(tmp_path: Path) -> None:
    path = write(tmp_path, "a.hcl", 'server {\n  enabled = true\n  bogus = 1\n}\nfoo = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_paths([path])
    text = str(info.value)
    assert f'{path}:3:3: unexpected key "bogus" in the "server" block' in text
    assert f'{path}:5:1: unexpected key "foo"' in text


@pytest.mark.parametrize("text, message", [
    ('ports {\n  http = "abc"\n}\n', ':2:3: "ports.http": cannot parse "abc" as a number'),
    ('server {\n  enabled = [1]\n}\n', ':2:3: "server.enabled": expected a bool, got list'),
    ('client {\n  servers = "a"\n}\n', ':2:3: "client.servers": expected a list of strings, got string'),
    ('acl {\n  token_ttl = "30 parsecs"\n}\n', ':2:3: "acl.token_ttl": invalid duration'),
    ('name {\n}\n', ':1:1: "name" must be a string, not a block'),
    ('plugin {\n}\n', ':1:1: the "plugin" block takes one label'),
    ('server {\n  enabled = \n}\n', ':2:'),
])
def test_wrong_types_are_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "a.hcl", text)
    with pytest.raises(ConfigError) as info:
        load_paths([path])
    assert path + message in str(info.value)


def test_every_block_parses(tmp_path: Path) -> None:
    text = '''
region = "eu"
log_json = true
http_api_response_headers { "Access-Control-Allow-Origin" = "*" }
addresses { http = "127.0.0.1" }
server {
  enabled = true
  encrypt = "k"
  num_schedulers = 2
  heartbeat_grace = "20s"
  default_scheduler_config {
    scheduler_algorithm = "spread"
    preemption_config { batch_scheduler_enabled = true }
  }
  server_join {
    retry_join     = ["a"]
    retry_interval = "15s"
  }
}
client {
  enabled = true
  meta { "rack" = "r1" }
  options = { "driver.raw_exec.enable" = "1" }
  host_volume "data" {
    path = "/srv/data"
    read_only = true
  }
  host_network "public" { cidr = "10.0.0.0/8" }
  reserved {
    cpu            = 500
    memory         = 512
    reserved_ports = "22"
  }
  drain_on_shutdown {
    deadline = "1m"
    force    = true
  }
  template { wait { min = "5s" } }
  artifact { http_read_timeout = "30m" }
}
acl { enabled = true }
tls { http = true }
telemetry {
  prometheus_metrics  = true
  collection_interval = "1s"
}
consul { address = "127.0.0.1:8500" }
vault {
  enabled   = false
  namespace = "n"
}
autopilot { cleanup_dead_servers = true }
limits { http_max_conns_per_client = 200 }
ui { enabled = true label { text = "prod" } }
plugin "raw_exec" {
  config {
    enabled = true
  }
}
plugin "docker" {
  args = ["-x"]
  config {
    volumes {
      enabled = true
    }
  }
}
audit {
  enabled = true
  sink "f" {
    type = "file"
    path = "/tmp/a"
  }
}
'''
    data = load_paths([write(tmp_path, "all.hcl", text)])
    cfg = apply(AgentConfig(), data)
    assert cfg.client["meta"] == {"rack": "r1"}
    assert cfg.client["options"] == {"driver.raw_exec.enable": "1"}
    assert cfg.client["host_volume"] == {"data": {"path": "/srv/data", "read_only": True}}
    assert cfg.client["reserved"]["memory"] == 512
    assert cfg.server["default_scheduler_config"]["preemption_config"] == {"batch_scheduler_enabled": True}
    assert cfg.extra["plugin"]["raw_exec"]["config"]["enabled"] is True
    assert cfg.extra["plugin"]["docker"]["config"] == {"volumes": {"enabled": True}}
    assert cfg.extra["http_api_response_headers"] == {"Access-Control-Allow-Origin": "*"}
    assert cfg.extra["audit"]["sink"]["f"]["type"] == "file"
    assert any("client.host_volume \"data\": path /srv/data does not exist" in w
               for w in startup_warnings(cfg))


def test_json_config(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", json.dumps({
        "datacenter": "dc2", "server": {"enabled": True, "bootstrap_expect": "1"},
        "plugin": [{"raw_exec": [{"config": [{"enabled": True}]}]}],
        "client": {"host_volume": {"v": {"path": "/x"}}}}))
    cfg = apply(AgentConfig(), load_paths([path]))
    assert cfg.datacenter == "dc2" and cfg.server["bootstrap_expect"] == 1
    assert cfg.extra["plugin"]["raw_exec"]["config"]["enabled"] is True
    assert cfg.client["host_volume"] == {"v": {"path": "/x"}}
    bad = write(tmp_path, "b.json", '{"server": {"nope": 1}}')
    with pytest.raises(ConfigError, match='unexpected key "nope"'):
        load_paths([bad])
    broken = write(tmp_path, "c.json", '{"server": ')
    with pytest.raises(ConfigError, match=r"c.json:1:\d+"):
        load_paths([broken])


def test_directory_merges_in_lexical_order_later_wins(tmp_path: Path) -> None:
    d = tmp_path / "conf.d"
    d.mkdir()
    (d / "10-base.hcl").write_text('datacenter = "a"\nserver {\n  enabled = true\n  bootstrap_expect = 3\n}\n')
    (d / "20-over.json").write_text('{"datacenter": "b", "server": {"bootstrap_expect": 1}}')
    (d / "notes.txt").write_text("ignored")
    extra = write(tmp_path, "last.hcl", 'region = "r9"\n')
    cfg = apply(AgentConfig(), load_paths([str(d), extra]))
    assert cfg.datacenter == "b" and cfg.region == "r9"
    assert cfg.server == {"enabled": True, "bootstrap_expect": 1}


def test_missing_path_is_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file or directory"):
        load_paths([str(tmp_path / "nope.hcl")])


def test_dev_config_unchanged() -> None:
    cfg = dev_config()
    assert cfg.dev and cfg.server_enabled and cfg.client_enabled and cfg.ports["http"] == 4646
    assert startup_warnings(cfg) == []
