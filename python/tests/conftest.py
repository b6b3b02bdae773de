import os

import pytest

from helpers import REPO


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    """Chains name files relative to the repository (assets/overlays/badge.png), as the
    command line's tests run them."""
    monkeypatch.chdir(REPO)


def pytest_report_header(config):
    import tessera

    return f"tessera {tessera.__version__} from {os.path.dirname(tessera.__file__)}, video: {tessera.VIDEO}"
