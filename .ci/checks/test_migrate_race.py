"""Two `migrate` jobs started at the same moment on a fresh database: both end cleanly."""

from __future__ import annotations

import subprocess

import pytest
from conftest import ENTRYPOINT, run

from tests.support.servers import PROJECT_DIR


@pytest.mark.parametrize("round_", range(3))
def test_two_migrate_jobs_at_once_leave_a_complete_schema(base_env, fresh_database, round_):
    env = {**base_env, "DATABASE_URL": fresh_database.url}
    jobs = [
        subprocess.Popen(
            [str(ENTRYPOINT), "migrate"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [job.communicate(timeout=300)[0] for job in jobs]

    assert [job.returncode for job in jobs] == [0, 0], "\n".join(outputs)
    # Whether they overlapped depends on the machine's load (tests/test_ops.py proves the
    # wait itself); either way the schema below must be whole.
    waited = sum("Another migrate is running" in out for out in outputs)
    print(f"round {round_}: {waited} of 2 jobs waited for the other")
    # Nothing left to apply, and the models match the migrations.
    check = run(["python", "manage.py", "migrate", "--check", "--noinput"], env)
    assert check.returncode == 0, check.stdout + check.stderr
    drift = run(["python", "manage.py", "makemigrations", "--check", "--dry-run"], env)
    assert drift.returncode == 0, drift.stdout + drift.stderr
