"""Allocation directories (Nomad's `client/allocdir`).

```
<data_dir>/alloc/<alloc_id>/
  alloc/{logs,tmp,data}        shared by the group's tasks (NOMAD_ALLOC_DIR)
  <task>/{local,secrets,private,tmp}
```
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

SHARED_ALLOC = "alloc"
LOG_DIR = "logs"
TMP_DIR = "tmp"
DATA_DIR = "data"
TASK_LOCAL = "local"
TASK_SECRETS = "secrets"
TASK_PRIVATE = "private"
TASK_TMP = "tmp"


@dataclass(frozen=True)
class TaskDir:
    """Paths of one task's directory inside an allocation directory."""

    dir: str

    @property
    def local_dir(self) -> str:
        return os.path.join(self.dir, TASK_LOCAL)

    @property
    def secrets_dir(self) -> str:
        return os.path.join(self.dir, TASK_SECRETS)

    @property
    def private_dir(self) -> str:
        return os.path.join(self.dir, TASK_PRIVATE)

    @property
    def tmp_dir(self) -> str:
        return os.path.join(self.dir, TASK_TMP)

    def build(self) -> None:
        """Create the task's directories (idempotent)."""
        os.makedirs(self.dir, mode=0o755, exist_ok=True)
        os.chmod(self.dir, 0o755)
        for path, mode in ((self.local_dir, 0o777), (self.secrets_dir, 0o777),
                           (self.private_dir, 0o700), (self.tmp_dir, 0o1777)):
            os.makedirs(path, exist_ok=True)
            os.chmod(path, mode)


class AllocDir:
    """An allocation's directory tree."""

    def __init__(self, alloc_root: str, alloc_id: str):
        self.alloc_id = alloc_id
        self.dir = os.path.join(alloc_root, alloc_id)

    @property
    def shared_dir(self) -> str:
        return os.path.join(self.dir, SHARED_ALLOC)

    @property
    def log_dir(self) -> str:
        return os.path.join(self.shared_dir, LOG_DIR)

    def task_dir(self, task: str) -> TaskDir:
        return TaskDir(os.path.join(self.dir, task))

    def log_base(self, task: str, stream: str) -> str:
        """Base path of a task's log stream; files are `<base>.<n>`."""
        return os.path.join(self.log_dir, f"{task}.{stream}")

    def exists(self) -> bool:
        return os.path.isdir(self.dir)

    def build(self, tasks: list[str] | tuple[str, ...] = ()) -> None:
        """Create the shared directories and those of `tasks` (idempotent)."""
        os.makedirs(self.dir, mode=0o755, exist_ok=True)
        os.chmod(self.dir, 0o755)
        for sub, mode in ((self.shared_dir, 0o755), (self.log_dir, 0o777),
                          (os.path.join(self.shared_dir, TMP_DIR), 0o1777),
                          (os.path.join(self.shared_dir, DATA_DIR), 0o777)):
            os.makedirs(sub, exist_ok=True)
            os.chmod(sub, mode)
        for task in tasks:
            self.task_dir(task).build()

    def destroy(self) -> None:
        """Remove the whole allocation directory."""
        shutil.rmtree(self.dir, ignore_errors=True)
