"""Isolation shared by the `exec` and `java` drivers: namespaces, a chroot of the task
directory, cgroups v1 limits, the task's user and capabilities.

Modules here that run inside the executor or the exec helper (`linux`, `capabilities`,
`cgroups`, `chroot`, `container`, `users`, `launch`, `enter`) use the standard library
only; `driver` is the agent-side base class of both drivers.
"""
