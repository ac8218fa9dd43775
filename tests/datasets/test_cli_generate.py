"""``hybridsolve generate`` as a subprocess: list, write, reference values, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hybridsolve import datasets


def cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hybridsolve", "generate", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_list_prints_one_name_per_line():
    proc = cli("--list")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == datasets.distributions()


def test_generate_writes_instances_manifest_and_references(tmp_path):
    out = tmp_path / "mk"
    proc = cli("itemplacement-easy", "--n", "2", "--out", out, "--split", "valid", "--seed", "4",
               "--solve-reference", "60")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == f"2 instances of itemplacement-easy (valid split, seed 4) in {out}"
    assert sum(line.startswith("wrote ") for line in lines) == 2
    assert sum(": optimal objective" in line for line in lines) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert [e["name"] for e in manifest["instances"]] == [
        "itemplacement-easy-valid-0000", "itemplacement-easy-valid-0001",
    ]  # fmt: skip
    assert all(e["reference"]["status"] == "optimal" for e in manifest["instances"])
    files = ["itemplacement-easy-valid-0000.mps.gz", "itemplacement-easy-valid-0001.mps.gz"]
    assert sorted(p.name for p in out.iterdir()) == sorted(["manifest.json", *files])


def test_quiet_prints_only_the_final_line(tmp_path):
    proc = cli("itemplacement-easy", "--n", "1", "--out", tmp_path, "--quiet")
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 1


def one_line_error(proc: subprocess.CompletedProcess, code: int, text: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert text in proc.stderr


def test_errors_are_one_line_with_exit_codes(tmp_path):
    one_line_error(cli("setcover-eazy", "--out", tmp_path), 2, "did you mean setcover-easy")
    one_line_error(cli("setcover-easy"), 2, "needs a DISTRIBUTION and --out DIR")
    one_line_error(cli("setcover-easy", "--out", tmp_path, "--split", "x"), 2, "unknown split")
    one_line_error(cli("setcover-easy", "--out", tmp_path, "--n", "many"), 2, "invalid int")
    blocker = tmp_path / "file"
    blocker.write_text("")
    one_line_error(cli("setcover-easy", "--n", "1", "--out", blocker / "d"), 3, "cannot create")
