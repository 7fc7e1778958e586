"""The dashboard in a real headless Chromium, with a real worker running real processes: log in,
watch a task appear live after an INSERT from psql, open a task page and cancel the running task
from it. The test saves the screenshots the README shows (UPDATE_SCREENSHOTS=1 writes
them to docs/img/, otherwise to the test's temporary folder)."""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest

from tests.cli.conftest import REPO
from tests.helpers.workers import Workers, wait_status
from tests.web import browser as chromium
from tests.web.conftest import WebServer

T = TypeVar("T")


@pytest.fixture
def browser() -> Iterator[chromium.Browser]:
    reason = chromium.available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    session = chromium.Browser()
    yield session
    session.close()


@pytest.fixture
def workers(dsn: str, tmp_path: Path) -> Iterator[Workers]:
    group = Workers(dsn, tmp_path)
    yield group
    group.stop_all()


def eventually(condition: Callable[[], T], what: str, timeout: float = 15) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception:  # the element is being replaced by a live update; look again
            value = None  # type: ignore[assignment]
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def screenshot_path(tmp_path: Path, name: str) -> Path:
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        (REPO / "docs" / "img").mkdir(parents=True, exist_ok=True)
        return REPO / "docs" / "img" / name
    return tmp_path / name


def add(db: psycopg.Connection, prompt: str, **columns: object) -> int:
    columns = {"prompt": prompt, **columns}
    return int(db.execute(f"insert into swarm.agent_tasks ({', '.join(columns)}) values "
                          f"({', '.join(['%s'] * len(columns))}) returning id", list(columns.values())).fetchone()[0])


def test_watch_a_task_appear_live_open_it_and_cancel_it_from_the_page(
        web: WebServer, workers: Workers, db: psycopg.Connection, browser: chromium.Browser, dsn: str,
        tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    # A small pipeline through a real worker: one step done, one failed, one running, two waiting.
    research = add(db, "echo 'read auth/session.py and the cache settings'", tags=["demo"])
    add(db, "echo 'sliding expiry' && exit 3", depends_on=[research], max_attempts=1, tags=["demo"])
    long_step = add(db, "sleep 60  # implement the /session/refresh endpoint", depends_on=[research], tags=["demo"])
    review = add(db, "echo review the change", depends_on=[long_step], tags=["demo"])
    add(db, "echo summarise for the pull request", depends_on=[review], tags=["demo"])
    workers.start(concurrency=3)
    wait_status(dsn, long_step, "running", workers=workers)

    driver = browser.driver
    driver.get(web.url + "/")
    eventually(lambda: "/login" in driver.current_url, "the redirect to the login page")
    driver.find_element(By.ID, "token").send_keys(web.tokens["admin"])
    driver.find_element(By.ID, "login").click()
    eventually(lambda: f"#{long_step}" in driver.find_element(By.ID, "latest").text, "the overview")
    eventually(lambda: "on" in driver.find_element(By.ID, "live-state").get_attribute("class"), "the live stream")
    driver.execute_script("window.__sameDocument = true")

    started = time.monotonic()
    fresh = add(db, "echo 'a task from psql'")  # a plain INSERT from outside
    eventually(lambda: f"#{fresh}" in driver.find_element(By.ID, "latest").text, "the new task on the overview")
    appeared = time.monotonic() - started
    assert driver.execute_script("return window.__sameDocument === true"), "updated in place, not reloaded"
    assert appeared < 10
    eventually(lambda: "completed" in driver.find_element(By.CSS_SELECTOR, f'#latest tr[data-task="{fresh}"]').text,
               "the new task completing on the page (a real worker ran it)", timeout=30)
    driver.save_screenshot(str(screenshot_path(tmp_path, "dashboard.png")))

    # A live update may replace an element between finding and clicking it: click it again then.
    eventually(lambda: driver.find_element(By.CSS_SELECTOR, f'#latest a[href="/tasks/{long_step}"]').click() or True,
               "a click on the running task")
    eventually(lambda: driver.find_element(By.ID, "task-status").text == "running", "the task page")
    assert "<svg" in driver.page_source, "the dependency graph"
    driver.save_screenshot(str(screenshot_path(tmp_path, "task.png")))
    eventually(lambda: driver.find_element(By.ID, "cancel").click() or True, "a click on Cancel")
    eventually(lambda: driver.find_element(By.ID, "task-status").text == "cancelled",
               "the task page to show the task cancelled (its worker stopped the process)", timeout=30)
    row = db.execute("select status, cancel_reason from swarm.agent_tasks where id = %s", (long_step,)).fetchone()
    assert row[0] == "cancelled" and "pgswarm web" in row[1]
    assert db.execute("select status from swarm.agent_tasks where id = %s", (review,)).fetchone()[0] == "cancelled"
    for name in ("dashboard.png", "task.png"):
        assert screenshot_path(tmp_path, name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_task_page_shows_its_transcript_growing_while_the_agent_prints(
        web: WebServer, workers: Workers, db: psycopg.Connection, browser: chromium.Browser, dsn: str,
        tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    gates = [tmp_path / "gate-1", tmp_path / "gate-2"]
    task = add(db, f"echo 'step one: reading the code'; while [ ! -e {gates[0]} ]; do sleep 0.05; done; "
                   f"echo 'step two: writing the fix'; while [ ! -e {gates[1]} ]; do sleep 0.05; done; "
                   "echo 'step three: done'")
    workers.start()
    wait_status(dsn, task, "running", workers=workers)

    driver = browser.driver
    driver.get(web.url + "/login")
    driver.find_element(By.ID, "token").send_keys(web.tokens["read"])
    driver.find_element(By.ID, "login").click()
    eventually(lambda: "/login" not in driver.current_url, "the login")
    driver.get(f"{web.url}/tasks/{task}")
    transcript = lambda: driver.find_element(By.ID, "transcript").text  # noqa: E731
    eventually(lambda: "step one: reading the code" in transcript(), "the first line on the page")
    driver.execute_script("window.__sameDocument = true")
    assert "step two" not in transcript()
    gates[0].touch()
    eventually(lambda: "step two: writing the fix" in transcript(), "the second line, streamed in")
    assert driver.execute_script("return window.__sameDocument === true"), "appended in place, not reloaded"
    assert db.execute("select status from swarm.agent_tasks where id = %s", (task,)).fetchone()[0] == "running"
    driver.save_screenshot(str(screenshot_path(tmp_path, "transcript.png")))
    gates[1].touch()
    eventually(lambda: "step three: done" in transcript(), "the last line")
    eventually(lambda: driver.find_element(By.ID, "task-status").text == "completed", "the task completed", timeout=30)
    assert transcript().splitlines() == ["step one: reading the code", "step two: writing the fix", "step three: done"]
