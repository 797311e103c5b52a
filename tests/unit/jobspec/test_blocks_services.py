"""Service, check and Consul Connect blocks map to their API JSON fields."""

from __future__ import annotations

from .conftest import group

SEC = 1_000_000_000


def test_service_and_checks() -> None:
    g = group('''
      service {
        name = "web"
        port = "http"
        tags = ["a"]
        canary_tags = ["c"]
        provider = "consul"
        address_mode = "alloc"
        on_update = "ignore"
        meta {
          k = "v"
        }
        tagged_addresses {
          wan = "1.2.3.4"
        }
        check {
          type = "http"
          path = "/health"
          interval = "10s"
          timeout = "2s"
          method = "POST"
          header {
            Authorization = ["Basic x"]
          }
          check_restart {
            limit = 3
            grace = "90s"
            ignore_warnings = false
          }
        }
        check_restart {
          limit = 1
        }
      }
    ''')
    (svc,) = g["Services"]
    assert (svc["Name"], svc["PortLabel"], svc["Provider"], svc["AddressMode"]) == ("web", "http", "consul", "alloc")
    assert svc["Meta"] == {"k": "v"} and svc["TaggedAddresses"] == {"wan": "1.2.3.4"}
    assert svc["CheckRestart"] == {"Limit": 1, "Grace": None, "IgnoreWarnings": False}
    (chk,) = svc["Checks"]
    assert (chk["Type"], chk["Path"], chk["Interval"], chk["Timeout"], chk["Method"]) == ("http", "/health", 10 * SEC, 2 * SEC, "POST")
    assert chk["Header"] == {"Authorization": ["Basic x"]}
    assert chk["CheckRestart"] == {"Limit": 3, "Grace": 90 * SEC, "IgnoreWarnings": False}
    assert chk["Expose"] is False and chk["SuccessBeforePassing"] == 0


def test_connect_sidecar() -> None:
    g = group('''
      service {
        name = "api"
        port = "9001"
        connect {
          sidecar_service {
            tags = ["x"]
            proxy {
              local_service_port = 9001
              upstreams {
                destination_name = "db"
                local_bind_port = 5432
                mesh_gateway {
                  mode = "local"
                }
              }
              expose {
                path {
                  path = "/health"
                  protocol = "http"
                  local_path_port = 9001
                  listener_port = "exp"
                }
              }
              config {
                protocol = "http"
              }
            }
          }
          sidecar_task {
            resources {
              cpu = 100
            }
          }
        }
      }
    ''')
    conn = g["Services"][0]["Connect"]
    assert conn["Native"] is False and conn["Gateway"] is None
    proxy = conn["SidecarService"]["Proxy"]
    assert proxy["LocalServicePort"] == 9001 and proxy["ExposeConfig"] is None
    assert proxy["Upstreams"][0]["DestinationName"] == "db" and proxy["Upstreams"][0]["MeshGateway"] == {"Mode": "local"}
    assert proxy["Expose"] == {"Paths": [{"Path": "/health", "Protocol": "http", "LocalPathPort": 9001,
                                          "ListenerPort": "exp"}], "Path": None}
    assert proxy["Config"] == {"protocol": "http"}
    assert conn["SidecarTask"]["Resources"]["CPU"] == 100


def test_connect_gateway() -> None:
    g = group('''
      service {
        name = "ingress"
        connect {
          gateway {
            proxy {
              connect_timeout = "5s"
              envoy_gateway_bind_addresses "web" {
                address = "0.0.0.0"
                port = 8080
              }
            }
            ingress {
              tls {
                enabled = true
              }
              listener {
                port = 8080
                protocol = "tcp"
                service {
                  name = "web"
                }
              }
            }
            mesh {}
          }
        }
      }
    ''')
    gw = g["Services"][0]["Connect"]["Gateway"]
    assert gw["Proxy"]["ConnectTimeout"] == 5 * SEC
    assert gw["Proxy"]["EnvoyGatewayBindAddresses"] == {"web": {"Name": "web", "Address": "0.0.0.0", "Port": 8080}}
    assert gw["Ingress"]["TLS"]["Enabled"] is True
    assert gw["Ingress"]["Listeners"][0]["Services"] == [{"Name": "web", "Hosts": None}]
    assert gw["Mesh"] == {} and gw["Terminating"] is None
