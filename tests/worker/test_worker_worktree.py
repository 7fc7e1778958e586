"""A git worktree per task: its own branch, the agent runs inside it, branch and head in the result."""
from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from tests.helpers.workers import Workers, wait_status
from tests.worker.conftest import add

WORKTREES = "[profiles.shell]\nworktree = true\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def make_repo(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "user.name", "test")
    (path / "README").write_text("hello\n")
    git(path, "add", "README")
    git(path, "commit", "-q", "-m", "first")
    return path


COMMIT = ('echo "$PGSWARM_TASK_ID" > "task-$PGSWARM_TASK_ID.txt" && git add . && '
          'git -c user.email=a@b -c user.name=agent commit -q -m "task $PGSWARM_TASK_ID" && pwd')


def test_each_task_gets_its_own_branch_and_worktree(workers: Workers, db: psycopg.Connection, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    ids = [add(db, COMMIT, args=Jsonb({"repo": str(repo)})) for _ in range(3)]
    workers.start(config=WORKTREES, concurrency=3)
    for task_id in ids:
        row = wait_status(workers.dsn, task_id, "completed", workers=workers)
        tree = row["result"]["worktree"]
        assert tree["branch"] == f"swarm/task-{task_id}"
        assert tree["head"] == git(repo, "rev-parse", f"swarm/task-{task_id}")
        assert git(repo, "log", "-1", "--format=%s", tree["branch"]) == f"task {task_id}"
        assert row["output_tail"].strip().endswith(f"task-{task_id}"), "the agent ran inside its worktree"
        assert not Path(tree["path"]).exists(), "removed after success by default (the branch stays)"
    assert git(repo, "status", "--porcelain") == "", "the main checkout is untouched"
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_base_branch_and_keeping_the_worktree_on_failure(workers: Workers, db: psycopg.Connection,
                                                       tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "feature.txt").write_text("feature\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "feature work")
    git(repo, "checkout", "-q", "main")
    task_id = add(db, "test -f feature.txt && exit 4", max_attempts=1,
                  args=Jsonb({"repo": str(repo), "base": "feature"}))
    workers.start(config=WORKTREES)
    row = wait_status(workers.dsn, task_id, "failed", workers=workers)
    tree = row["result"]["worktree"]
    assert row["exit_code"] == 4, "the worktree was made from the feature branch"
    assert tree["kept"] and Path(tree["path"], "feature.txt").exists()


def test_a_stale_worktree_entry_is_cleaned_and_retried(workers: Workers, db: psycopg.Connection,
                                                     tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    task_id = add(db, "pwd", args=Jsonb({"repo": str(repo)}))
    # A crashed worker's leftover: git still lists a worktree for the branch, its directory is gone.
    stale = tmp_path / "elsewhere"
    git(repo, "worktree", "add", "-q", "-b", f"swarm/task-{task_id}", str(stale))
    subprocess.run(["rm", "-rf", str(stale)], check=True)
    workers.start(config=WORKTREES)
    row = wait_status(workers.dsn, task_id, "completed", workers=workers)
    assert row["result"]["worktree"]["branch"] == f"swarm/task-{task_id}"


def test_a_bad_repo_fails_the_task_with_a_clear_error(workers: Workers, db: psycopg.Connection,
                                                    tmp_path: Path) -> None:
    task_id = add(db, "pwd", args=Jsonb({"repo": str(tmp_path / "missing")}))
    workers.start(config=WORKTREES)
    row = wait_status(workers.dsn, task_id, "failed", workers=workers)
    assert "not a git repository" in row["error"] and row["attempts"] == 1
