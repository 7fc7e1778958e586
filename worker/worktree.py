"""A git worktree per task, so agents working on one repository do not trample each other.

A task with `args.repo` (and a profile that allows it) runs in `<repo>/../.pgswarm-worktrees/
<repo name>/task-<id>` on branch `swarm/task-<id>`, created from `args.base` (default HEAD); a
retried task reuses its branch. `git worktree` changes are serialised per repository (an asyncio
lock inside this worker, a file lock across workers of the node); a failed add is retried once
after pruning stale entries. Afterwards the branch and head commit go into the result, and the
directory is kept or removed by `args.worktree_keep`: "on_failure" (default), "always", "never".
"""
from __future__ import annotations

import asyncio
import fcntl
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KEEP_POLICIES = ("on_failure", "always", "never")
_repo_locks: dict[Path, asyncio.Lock] = {}


class WorktreeError(Exception):
    """The worktree could not be prepared; the message says which git command failed and why."""


@dataclass(frozen=True)
class Worktree:
    repo: Path
    path: Path
    branch: str
    base: str
    keep: str

    def describe(self, head: str | None) -> dict[str, Any]:
        return {"path": str(self.path), "branch": self.branch, "base": self.base, "head": head}


async def _git(cwd: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec("git", *args, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    if process.returncode != 0:
        message = (err or out).decode(errors="replace").strip().splitlines()
        raise WorktreeError(f"git {' '.join(args)} in {cwd}: {message[-1] if message else f'exit {process.returncode}'}")
    return out.decode(errors="replace").strip()


class _RepoLock:
    """Serialise worktree changes on one repository across tasks and across workers."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.lock = _repo_locks.setdefault(repo, asyncio.Lock())
        self.file: Any = None

    async def __aenter__(self) -> None:
        await self.lock.acquire()
        try:
            self.file = open(self.repo / ".git" / "pgswarm-worktree.lock", "a")
            await asyncio.to_thread(fcntl.flock, self.file, fcntl.LOCK_EX)
        except BaseException:
            self.lock.release()
            raise

    async def __aexit__(self, *exc: object) -> None:
        try:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
        finally:
            self.lock.release()


def spec_from_args(args: dict[str, Any]) -> tuple[Path, str, str] | None:
    """(repo, base, keep) when the task asks for a worktree; ValueError when its args are bad."""
    repo = args.get("repo")
    if repo is None:
        return None
    if not isinstance(repo, str) or not repo:
        raise ValueError("args.repo must be the path of a git repository")
    base = args.get("base", "HEAD")
    keep = args.get("worktree_keep", "on_failure")
    if not isinstance(base, str) or not base:
        raise ValueError("args.base must be a branch, tag or commit")
    if keep not in KEEP_POLICIES:
        raise ValueError(f"args.worktree_keep must be one of {', '.join(KEEP_POLICIES)} (got {keep!r})")
    path = Path(repo).expanduser()
    if not (path / ".git").is_dir():
        raise ValueError(f"args.repo {repo} is not a git repository (no .git directory)")
    return path.resolve(), base, keep


async def prepare(repo: Path, base: str, keep: str, *, task_id: int) -> Worktree:
    branch = f"swarm/task-{task_id}"
    path = repo.parent / ".pgswarm-worktrees" / repo.name / f"task-{task_id}"
    worktree = Worktree(repo, path, branch, base, keep)
    async with _RepoLock(repo):
        try:
            await _add(worktree)
        except WorktreeError:
            # A stale entry (a crashed worker's directory, a deleted path git still lists): clean, retry once.
            await _git(repo, "worktree", "prune")
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)
                await _git(repo, "worktree", "prune")
            await _add(worktree)
    return worktree


async def _add(worktree: Worktree) -> None:
    if worktree.path.exists() and (worktree.path / ".git").exists():
        return  # a previous attempt of this task left it: continue there
    worktree.path.parent.mkdir(parents=True, exist_ok=True)
    branch_exists = await _branch_exists(worktree.repo, worktree.branch)
    if branch_exists:
        await _git(worktree.repo, "worktree", "add", str(worktree.path), worktree.branch)
    else:
        await _git(worktree.repo, "worktree", "add", "-b", worktree.branch, str(worktree.path), worktree.base)


async def _branch_exists(repo: Path, branch: str) -> bool:
    try:
        await _git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
        return True
    except WorktreeError:
        return False


async def finish(worktree: Worktree, succeeded: bool) -> dict[str, Any]:
    """Record the branch and head commit, then keep or remove the directory by policy."""
    try:
        head: str | None = await _git(worktree.path, "rev-parse", "HEAD")
    except WorktreeError:
        head = None
    remove = worktree.keep == "never" or (worktree.keep == "on_failure" and succeeded)
    if remove:
        async with _RepoLock(worktree.repo):
            try:
                await _git(worktree.repo, "worktree", "remove", "--force", str(worktree.path))
            except WorktreeError:
                shutil.rmtree(worktree.path, ignore_errors=True)
                await _git(worktree.repo, "worktree", "prune")
    info = worktree.describe(head)
    info["kept"] = not remove
    return info
