"""Allocation directory layout."""

import os
import stat

from pynomad.client.allocdir import AllocDir


def test_build_layout_and_destroy(tmp_path):
    ad = AllocDir(str(tmp_path / "alloc"), "abc")
    ad.build(["web", "sidecar"])
    for rel in ("alloc", "alloc/logs", "alloc/tmp", "alloc/data", "web/local", "web/secrets",
                "web/private", "web/tmp", "sidecar/local"):
        assert os.path.isdir(os.path.join(ad.dir, rel)), rel
    assert ad.log_base("web", "stdout") == os.path.join(ad.dir, "alloc", "logs", "web.stdout")
    assert stat.S_IMODE(os.stat(ad.task_dir("web").tmp_dir).st_mode) == 0o1777
    assert ad.task_dir("web").local_dir == os.path.join(ad.dir, "web", "local")
    ad.build(["web"])   # idempotent
    ad.destroy()
    assert not ad.exists()
