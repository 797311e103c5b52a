"""Shared fixtures for the client tests."""

from __future__ import annotations

import os

import pytest
from client_helpers import FakeClock

from pynomad.client.config import ClientConfig


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client_config(tmp_path) -> ClientConfig:
    data_dir = os.path.join(str(tmp_path), "data")
    os.makedirs(data_dir)
    return ClientConfig(data_dir=data_dir, dev_mode=True, state_fsync=False,
                        alloc_sync_interval_s=0.02)
