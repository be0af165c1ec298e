"""The test runner itself: `make test` runs pytest-xdist with ``--dist loadgroup`` so that the
tests sharing an expensive fixture (``xdist_group``, e.g. the saved models of test_saving.py)
run on one worker and build it once. pytest 9.2 with pytest-xdist 3.8 stopped grouping without
a word (pytest-dev/pytest-xdist#1386; hence the pin in setup.cfg): this test notices."""

from __future__ import annotations

import subprocess
import sys

GROUPED = """\
import pytest

TOGETHER = pytest.mark.xdist_group("together")


@TOGETHER
def test_first():
    pass


def test_alone():
    pass


@TOGETHER
def test_second():
    pass


@TOGETHER
def test_third():
    pass
"""


def test_loadgroup_keeps_a_group_on_one_worker(tmp_path):
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2"]
        + ["--dist", "loadgroup", "-v", "test_grouped.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ran = {
        line.split("::")[1].split()[0]: line.split()[0]
        for line in result.stdout.splitlines()
        if "PASSED test_grouped.py::" in line
    }
    assert len(ran) == 4, result.stdout
    grouped = {name: worker for name, worker in ran.items() if name != "test_alone"}
    # xdist names a grouped test NAME@GROUP; without the suffix it schedules it as ungrouped
    assert sorted(grouped) == ["test_first@together", "test_second@together", "test_third@together"]
    assert len(set(grouped.values())) == 1, grouped
