"""Shared fixtures for the server tests."""

from __future__ import annotations

import asyncio

import pytest

from pynomad.server import Server, ServerConfig


@pytest.fixture
def run():
    """`run(body, **config)`: start a one-scheduler Server, await `body(server)`, stop it."""
    def runner(coro_fn, **cfg):
        async def main():
            server = Server(ServerConfig(num_schedulers=1, **cfg))
            await server.start()
            try:
                await coro_fn(server)
            finally:
                await server.stop()
        asyncio.run(main())
    return runner
