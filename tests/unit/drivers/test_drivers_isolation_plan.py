"""The pure parts of exec/java isolation: capability sets, cgroup limits and mounts,
the chroot plan and command lookup, java's command line and version, usage documents."""

import pytest

from pynomad.drivers.isolation import capabilities as C
from pynomad.drivers.isolation import cgroups, chroot
from pynomad.drivers.isolation.driver import IsolationOptions, validate_plugin_config
from pynomad.drivers.isolation.stats import CpuSampler, usage_doc
from pynomad.drivers.java.driver import java_args, parse_java_version
from pynomad.client.driver import DriverError


# -- capabilities -------------------------------------------------------------------
def test_default_capabilities_are_nomads_list():
    got = C.calculate(C.NOMAD_DEFAULTS, None, None)
    assert got == ["CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
                   "CAP_FSETID", "CAP_KILL", "CAP_MKNOD", "CAP_NET_BIND_SERVICE",
                   "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"]


def test_cap_add_must_be_allowed_and_names_are_normalized():
    with pytest.raises(ValueError, match="does not allow the following capabilities: net_raw"):
        C.calculate(C.NOMAD_DEFAULTS, [" CAP_NET_RAW "], None)
    assert "CAP_NET_RAW" in C.calculate(list(C.NOMAD_DEFAULTS) + ["net_raw"], ["Net_Raw"], None)


def test_cap_drop_all_then_add():
    got = C.calculate(C.NOMAD_DEFAULTS, ["chown", "sys_chroot", "mknod"], ["all"])
    assert got == ["CAP_CHOWN", "CAP_MKNOD", "CAP_SYS_CHROOT"]
    assert C.calculate(C.NOMAD_DEFAULTS, None, ["kill", "CAP_CHOWN"]).count("CAP_KILL") == 0


def test_allow_all_and_unknown_names():
    assert C.to_set(["all"]) == C.supported()
    assert C.unsupported(["chown", "not_a_cap"]) == ["not_a_cap"]
    assert C.mask(["CAP_CHOWN", "kill"]) == (1 << 0) | (1 << 5)


# -- cgroups ------------------------------------------------------------------------
MOUNTINFO = """\
25 20 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
27 25 0:24 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
28 25 0:25 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
29 25 0:26 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
30 25 0:27 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
"""


def test_find_mounts_reads_comounted_v1_hierarchies():
    assert cgroups.find_mounts(MOUNTINFO) == {
        "cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
        "memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids"}


def test_task_path_lives_under_the_parent():
    assert cgroups.task_path("", "abc", "web") == "nomad/abc.web"
    assert cgroups.task_path("/custom/", "abc", "web") == "custom/abc.web"
    cg = cgroups.Cgroup.for_task("nomad/abc.web", {"memory": "/m", "cpu": "/c"})
    assert cg.paths == {"memory": "/m/nomad/abc.web", "cpu": "/c/nomad/abc.web"}


def test_memory_limit_is_memory_or_memory_max_with_a_soft_reservation():
    lim = cgroups.limits_for(500, 256)
    assert (lim.memory_bytes, lim.memory_soft_bytes) == (256 << 20, 0)
    lim = cgroups.limits_for(500, 256, memory_max_mb=512)
    assert (lim.memory_bytes, lim.memory_soft_bytes) == (512 << 20, 256 << 20)


def test_cpu_shares_are_mhz_within_the_kernels_range():
    assert cgroups.limits_for(500, 0).cpu_shares == 500
    assert cgroups.limits_for(0, 0).cpu_shares == 2
    assert cgroups.limits_for(10**7, 0).cpu_shares == 262_144
    assert cgroups.limits_for(500, 0).cfs_quota_us == -1


def test_cpu_hard_limit_is_the_tasks_share_of_all_cores():
    # 1000 MHz of a 4000 MHz node with 2 cores: a quarter of 2 cores = 50 ms per 100 ms
    lim = cgroups.limits_for(1000, 0, cpu_hard_limit=True, total_compute_mhz=4000,
                             num_cores=2)
    assert (lim.cfs_period_us, lim.cfs_quota_us) == (100_000, 50_000)
    lim = cgroups.limits_for(1000, 0, cpu_hard_limit=True, total_compute_mhz=4000,
                             num_cores=2, cfs_period_us=50_000)
    assert lim.cfs_quota_us == 25_000


def test_cgroup_files_are_written(tmp_path):
    paths = {s: str(tmp_path / s / "nomad" / "a.t") for s in ("memory", "cpu", "devices")}
    cg = cgroups.Cgroup(paths)
    cg.create(cgroups.limits_for(300, 128, cpu_hard_limit=True, total_compute_mhz=600,
                                 num_cores=1))
    mem = tmp_path / "memory" / "nomad" / "a.t"
    assert (mem / "memory.limit_in_bytes").read_text() == str(128 << 20)
    assert (mem / "memory.swappiness").read_text() == "0"
    cpu = tmp_path / "cpu" / "nomad" / "a.t"
    assert (cpu / "cpu.shares").read_text() == "300"
    assert (cpu / "cpu.cfs_quota_us").read_text() == "50000"
    assert (tmp_path / "devices" / "nomad" / "a.t" / "devices.allow").read_text() == \
        cgroups.DEVICE_RULES[-1]   # a plain file keeps the last write
    (mem / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert cg.oom_killed()


# -- chroot -------------------------------------------------------------------------
def probe_from(tree: dict[str, str]):
    def probe(path):
        return tree.get(path, ""), {"/bin": "/usr/bin"}.get(path, path)
    return probe


HOST = {"/bin": "dir", "/usr/bin": "dir", "/etc": "dir", "/usr": "dir", "/lib": "dir",
        "/usr/lib/jvm": "dir", "/etc/passwd": "file"}


def test_default_plan_skips_missing_sources_and_resolves_symlinks():
    binds = chroot.plan(None, probe_from(HOST))
    assert [(b.target, b.source) for b in binds] == [
        ("/bin", "/usr/bin"), ("/etc", "/etc"), ("/lib", "/lib"), ("/usr", "/usr")]
    assert all(b.read_only for b in binds)


def test_nested_entries_need_a_mount_point_in_their_parent():
    env = {"/usr": "/usr", "/usr/lib/jvm": "/usr/lib/jvm", "/etc/passwd": "/usr/passwd"}
    binds = chroot.plan(env, probe_from(HOST))
    assert [b.target for b in binds] == ["/usr", "/usr/lib/jvm"]   # /usr/passwd is not there
    assert chroot.mountpoints(binds) == [("/usr", True)]


def test_file_entries_and_bad_destinations():
    binds = chroot.plan({"/etc/passwd": "etc/passwd"}, probe_from(HOST))
    assert binds == [chroot.Bind(source="/etc/passwd", target="/etc/passwd", is_dir=False)]
    # a destination can never climb out of the task's root
    assert [b.target for b in chroot.plan({"/etc": "../../etc"}, probe_from(HOST))] == ["/etc"]
    with pytest.raises(ValueError, match="invalid"):
        chroot.plan({"/etc": "/e\x00tc"}, probe_from(HOST))
    with pytest.raises(ValueError, match="reserved"):
        chroot.plan({"/etc": "/alloc/etc"}, probe_from(HOST))


def test_lookup_task_bin_searches_local_task_dir_then_the_chroot_path():
    binds = [chroot.Bind("/usr/bin", "/bin"), chroot.Bind("/usr", "/usr")]
    files = {"/task/local/app", "/usr/bin/sleep", "/task/run.sh", "/vol/tool"}
    binds_v = binds + [chroot.Bind("/vol", "/opt/vol")]
    found = lambda p: p in files  # noqa: E731
    assert chroot.lookup_task_bin("app", "/task", binds, found) == ("/local/app",
                                                                   "/task/local/app")
    assert chroot.lookup_task_bin("run.sh", "/task", binds, found) == ("/run.sh", "/task/run.sh")
    assert chroot.lookup_task_bin("sleep", "/task", binds, found) == ("/usr/bin/sleep",
                                                                     "/usr/bin/sleep")
    assert chroot.lookup_task_bin("/bin/sleep", "/task", binds, found) == ("/bin/sleep",
                                                                          "/usr/bin/sleep")
    assert chroot.lookup_task_bin("/opt/vol/tool", "/task", binds_v, found)[1] == "/vol/tool"
    with pytest.raises(ValueError, match="not found"):
        chroot.lookup_task_bin("/etc/shadow", "/task", binds, found)
    with pytest.raises(ValueError, match="not found"):
        chroot.lookup_task_bin("../../usr/bin/sleep", "/task", [], found)


# -- options ------------------------------------------------------------------------
def test_plugin_config_defaults_and_errors():
    conf = validate_plugin_config({})
    assert conf["default_pid_mode"] == "private" and conf["no_pivot_root"] is False
    assert conf["allow_caps"] == list(C.NOMAD_DEFAULTS)
    with pytest.raises(ValueError, match='default_pid_mode must be "private" or "host"'):
        validate_plugin_config({"default_pid_mode": "shared"})
    with pytest.raises(ValueError, match="not supported by system: bogus"):
        validate_plugin_config({"allow_caps": ["chown", "bogus"]})


def test_task_options_are_validated():
    opts = IsolationOptions.from_config({"pid_mode": "host", "cap_add": "net_raw"})
    assert opts.pid_mode == "host" and opts.cap_add == ["net_raw"]
    with pytest.raises(DriverError, match="ipc_mode must be"):
        IsolationOptions.from_config({"ipc_mode": "none"})
    with pytest.raises(DriverError, match="cap_drop configured with capabilities not supported"):
        IsolationOptions.from_config({"cap_drop": ["nope"]})


# -- java ---------------------------------------------------------------------------
def test_java_command_line_follows_nomad_order():
    assert java_args({"jvm_options": ["-Xmx64m"], "class_path": "/local", "class": "Hello",
                      "args": ["a", "b"]}) == ["-Xmx64m", "-cp", "/local", "Hello", "a", "b"]
    assert java_args({"jar_path": "local/app.jar"}) == ["-jar", "local/app.jar"]


def test_java_version_parsing():
    out = ('Picked up _JAVA_OPTIONS: -Xmx1g\nopenjdk version "17.0.15" 2025-04-15\n'
           "OpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)\n"
           "OpenJDK 64-Bit Server VM (build 17.0.15+6-Debian-1deb12u1, mixed mode, sharing)\n")
    assert parse_java_version(out) == (
        "17.0.15", "OpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)",
        "OpenJDK 64-Bit Server VM (build 17.0.15+6-Debian-1deb12u1, mixed mode, sharing)")
    assert parse_java_version('java version "1.6.0_65"\nA\nB') == ("1.6.0_65", "A", "B")
    assert parse_java_version("garbage") == ("", "", "")


# -- usage --------------------------------------------------------------------------
def test_cpu_percent_is_the_delta_between_samples():
    s = CpuSampler()
    s.sample({"total_ns": 0, "user_ns": 0, "system_ns": 0}, 0)
    got = s.sample({"total_ns": 500_000_000, "user_ns": 400_000_000, "system_ns": 100_000_000},
                   1_000_000_000)
    assert got == {"total_ns": 50.0, "user_ns": 40.0, "system_ns": 10.0}
    doc = usage_doc({"RSS": 10, "Usage": 20}, {"throttled_periods": 3}, got, 2000.0, [7], 5)
    cpu = doc["ResourceUsage"]["CpuStats"]
    assert (cpu["Percent"], cpu["UserMode"], cpu["TotalTicks"], cpu["ThrottledPeriods"]) == \
        (50.0, 40.0, 1000.0, 3)
    assert doc["ResourceUsage"]["MemoryStats"]["RSS"] == 10 and doc["Pids"] == {"7": None}


def test_device_rules_and_task_devices(tmp_path):
    import types

    from pynomad.drivers.isolation.driver import _devices
    assert cgroups.device_rule("c", 10, 237, "rw") == "c 10:237 rw"
    assert cgroups.device_rule("b", 8, 0, "") == "b 8:0 rwm"
    cfg = types.SimpleNamespace(devices=[types.SimpleNamespace(
        host_path="/dev/null", task_path="/dev/mynull", permissions="r")])
    binds, rules = _devices(cfg)
    assert [(b.source, b.target) for b in binds] == [("/dev/null", "/dev/mynull")]
    assert rules == ["c 1:3 r"]
    cfg.devices[0].host_path = str(tmp_path)
    with pytest.raises(DriverError, match="is not a device"):
        _devices(cfg)
    cfg.devices[0].host_path, cfg.devices[0].task_path = "/dev/null", "/etc/null"
    with pytest.raises(DriverError, match="not under /dev"):
        _devices(cfg)


def test_resolv_conf_from_the_groups_dns_block():
    host = "# host\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch corp.example\noptions ndots:2\n"
    assert chroot.resolv_conf([], [], [], host) == host
    assert chroot.resolv_conf(["1.1.1.1"], [], ["rotate"], host) == \
        "nameserver 1.1.1.1\nsearch corp.example\noptions rotate\n"
    assert chroot.resolv_conf([], ["a.example", "b.example"], [], "nameserver 9.9.9.9\n") == \
        "nameserver 9.9.9.9\nsearch a.example b.example\n"
