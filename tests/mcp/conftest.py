from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.workers import Workers


@pytest.fixture
def workers(dsn: str, tmp_path: Path) -> Iterator[Workers]:
    group = Workers(dsn, tmp_path)
    yield group
    group.stop_all()
