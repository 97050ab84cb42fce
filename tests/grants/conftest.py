"""Fixtures of the grant tests (the stage is described in ``support.py``)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from tests.grants.support import Stage, build_stage
from tests.support.world import World


@pytest.fixture
def stage(frozen_clock: datetime, world: World, sanctioned: Session) -> Stage:
    return build_stage(world, sanctioned)
