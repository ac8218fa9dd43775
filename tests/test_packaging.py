"""Packaging: the wheel holds only the ``hybridsolve`` namespace; the CLI starts light."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(out)],
        check=True, capture_output=True, text=True, cwd=out,
    )  # fmt: skip
    return next(out.glob("hybridsolve-*.whl"))


def test_wheel_has_only_the_hybridsolve_namespace(wheel):
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    tops = {name.split("/")[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"hybridsolve"}
    for folder in ("mip", "comb", "datasets", "benchmarks"):
        assert f"hybridsolve/{folder}/__init__.py" in names
    assert "hybridsolve/cli.py" in names and "hybridsolve/mip/solve.py" in names
    assert not any(name.startswith("tests/") for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert (
        "hybridsolve = hybridsolve.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    )


def test_wheel_has_every_subpackage_of_the_checkout(wheel):
    """Every folder with an ``__init__.py`` ships (``neural.hints`` and ``neural.branching``
    were once missing from pyproject's explicit package list)."""
    names = set(zipfile.ZipFile(wheel).namelist())
    folders = {name: f"hybridsolve/{name}"
               for name in ("mip", "lns", "comb", "neural", "datasets", "benchmarks")}  # fmt: skip
    folders["hybridsolve"] = "hybridsolve"
    missing = []
    for folder, inside in folders.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            shipped = f"{inside}/{init.relative_to(ROOT / folder).as_posix()}"
            if shipped not in names:
                missing.append(shipped)
    assert missing == []


def test_help_imports_no_solver_and_no_torch():
    probe = (
        "import sys, json; from hybridsolve.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ['torch', 'numpy', 'scipy', 'pyscipopt', 'highspy', 'numba']\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
