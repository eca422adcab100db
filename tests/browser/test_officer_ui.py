"""A data officer's day in the survivor-link view, in a real browser against real `airflow standalone`.

One Airflow (SQLite, LocalExecutor, our DAGs and plugin) serves the whole module: synthetic
lists, a file missing required columns and a file seeded with canary values are dropped into
the landing folders, and the watchers, ingest and link DAGs take them in. Playwright drives
Debian's Chromium (/usr/bin/chromium): log in, find the rejected file and why, open
quarantined rows, decide a review pair by keyboard and see the next link apply it, open a
person, download and approve the weekly report. A viewer is refused every route; canary
values show only where an officer asked for them. Screenshots go to
var/test-artifacts/screenshots/ (SURVIVOR_LINK_SCREENSHOTS overrides).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write
from tests.helpers import iom_csv, iom_row

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CANARIES = ["ZQXUICANARY", "97712399", "17/07/1976", "1976-07-17"]
# file names of safe words only, which pages without values show (linkage.privacy.file_label)
BROKEN_FILE, CANARY_FILE = "iom_returns_v1.csv", "iom_returns_v2.csv"


def canary_csv() -> str:
    """The list with the canary man (and a bad date to quarantine), as written to landing."""
    canary = iom_row("CAN-1", name=f"{CANARIES[0]} SOK", dob=CANARIES[2], phone="0" + CANARIES[1])
    bad_date = iom_row("CAN-2", name=f"{CANARIES[0]} CHEA", dob="31/02/1990", phone="0" + CANARIES[1])
    return iom_csv([canary, bad_date])


PASSWORDS = {"officer": "officer-pw-" + secrets.token_hex(4), "watcher": "watcher-pw-" + secrets.token_hex(4)}
SHOTS = Path(os.environ.get("SURVIVOR_LINK_SCREENSHOTS", ROOT / "var" / "test-artifacts" / "screenshots"))

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="scripts/test_services.sh installs chromium")


class Airflow:
    """A running `airflow standalone` and what the tests need to talk to it and its store."""

    def __init__(self, url: str, home: Path, store_home: Path, env: dict[str, str]) -> None:
        self.url, self.home, self.store_home, self.env = url, home, store_home, env

    def token(self, user: str) -> str:
        body = json.dumps({"username": user, "password": PASSWORDS[user]}).encode()
        req = urllib.request.Request(
            f"{self.url}/auth/token", body, {"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["access_token"]

    def call(self, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}{path}", data, headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def store(self, query: str, *args: Any) -> list[tuple]:
        with sqlite3.connect(self.store_home / "survivor-link.db") as con:
            return con.execute(query, args).fetchall()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := check():
                return value
        except (OSError, sqlite3.Error):
            pass
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory, synth_dir: Path) -> Iterator[Airflow]:
    home = tmp_path_factory.mktemp("airflow-ui")
    store_home = tmp_path_factory.mktemp("store-ui")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    (home / "passwords.json").write_text(json.dumps(PASSWORDS))
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Phnom_Penh",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "officer:user,watcher:viewer",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
            "SURVIVOR_LINK_HOME": str(store_home),
            "SURVIVOR_LINK_DB_URL": "",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    log = (home / "standalone.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "airflow"), "standalone"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    af = Airflow(url, home, store_home, env)
    from linkage.settings import load_settings
    from linkage.store.db import dispose_engines, migrate

    migrate(load_settings(home=store_home, db_url=""))  # as `make demo` does before the first drop
    dispose_engines()
    try:
        wait_for("the api-server", lambda: af.call("GET", "/api/v2/monitor/health", None)[0] == 200, 240)
        landing = store_home / "landing"
        for folder in (synth_dir / "landing").iterdir():
            shutil.copytree(folder, landing / folder.name, dirs_exist_ok=True)
        broken = [h for h in iom_csv([iom_row("X-1")]).splitlines()[0].split(",") if h != "full_name"]
        write(landing / "iom" / BROKEN_FILE, iom_csv([iom_row("X-1")], header=broken))
        write(landing / "iom" / CANARY_FILE, canary_csv())
        files = sum(1 for f in landing.rglob("*") if f.is_file())
        wait_for(
            f"{files} deliveries ingested",
            lambda: (
                af.store("select count(*) from delivery where status in ('ingested','rejected')")[0][0]
                >= files
            ),
            600,
            every=3,
        )
        wait_for(
            "linkage",
            lambda: af.store(
                "select (select count(*) from record) = (select count(*) from person_record)"
                " and (select count(*) from audit_log where action = 'flag') > 0"
            )[0][0],
            600,
            every=3,
        )
        token = af.token("officer")

        def runs_settled() -> bool:  # no ingest or link run still queued or running
            status, body = af.call("GET", "/api/v2/dags/~/dagRuns?state=queued&state=running", token)
            return status == 200 and json.loads(body)["total_entries"] == 0

        wait_for("every run to finish", runs_settled, 600, every=3)
        SHOTS.mkdir(parents=True, exist_ok=True)
        yield af
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def officer(airflow: Airflow, browser) -> Iterator[Any]:
    """The officer logged in through Airflow's own login page, in Phnom Penh's time zone."""
    context = browser.new_context(
        timezone_id="Asia/Phnom_Penh", viewport={"width": 1400, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(120_000)  # generous: other test suites may load the machine
    page = context.new_page()
    page.goto(f"{airflow.url}/auth/login")
    page.locator("input[name='username']").fill("officer")
    page.locator("input[name='password']").fill(PASSWORDS["officer"])
    page.locator("button[type='submit']").click()
    page.wait_for_url(lambda u: "/auth/login" not in u, timeout=30_000)
    yield page
    context.close()


SEEN: list[str] = []  # every page an officer saw without asking for values
TIMES: dict[str, float] = {}  # what the officer waited for, printed (pytest -s) for the README


def visit(page, url: str, shot: str | None = None) -> str:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    if shot:
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    html = page.content()
    if "show_values=1" not in url:
        SEEN.append(html)
    return html


ROUTES = [
    ("GET", "/survivor-link/"),
    ("GET", "/survivor-link/deliveries"),
    ("GET", "/survivor-link/deliveries/{sha}"),
    ("GET", "/survivor-link/deliveries/{sha}?show_values=1"),
    ("POST", "/survivor-link/deliveries/{sha}/replay"),
    ("POST", "/survivor-link/replay"),
    ("GET", "/survivor-link/review"),
    ("GET", "/survivor-link/review?show_values=1"),
    ("POST", "/survivor-link/review/1/decide"),
    ("POST", "/survivor-link/review/1/undo"),
    ("GET", "/survivor-link/person"),
    ("GET", "/survivor-link/person/SL0000001"),
    ("GET", "/survivor-link/report"),
    ("GET", "/survivor-link/report/1/workbook"),
    ("GET", "/survivor-link/report/1/state"),
    ("GET", "/survivor-link/data-docs/index.html"),
    ("GET", "/survivor-link/data-docs/deliveries/{sha16}.html"),
]


def test_a_viewer_and_a_stranger_are_refused_every_route(airflow: Airflow) -> None:
    sha = airflow.store("select sha256 from delivery limit 1")[0][0]
    watcher = airflow.token("watcher")
    body = {"decision": "same"}
    for method, route in ROUTES:
        path = route.format(sha=sha, sha16=sha[:16])
        status, text = airflow.call(method, path, None, body if method == "POST" else None)
        assert status == 401, (path, status)
        status, text = airflow.call(method, path, watcher, body if method == "POST" else None)
        assert status == 403, (path, status)
        assert not [c for c in CANARIES if c.encode() in text]
    # the officer's role gets in
    assert airflow.call("GET", "/survivor-link/deliveries", airflow.token("officer"))[0] == 200


def test_the_officer_finds_the_rejected_file_and_why(airflow: Airflow, officer) -> None:
    officer.goto(f"{airflow.url}/plugin/survivor-link")
    officer.wait_for_timeout(3000)
    officer.screenshot(path=str(SHOTS / "01-airflow-nav.png"))
    html = visit(officer, f"{airflow.url}/survivor-link/deliveries", "02-deliveries")
    row = officer.locator("tr.delivery", has_text=BROKEN_FILE)
    assert row.locator("td.status-rejected").inner_text() == "rejected"
    assert "full_name" in row.inner_text()  # the missing column is named
    assert CANARY_FILE in html
    row.locator("a").click()
    officer.wait_for_load_state("networkidle")
    assert "Rejected:" in officer.locator("#reason").inner_text()
    assert "drop it again into landing/iom/" in officer.locator("#next-step").inner_text()
    officer.screenshot(path=str(SHOTS / "03-rejected-file.png"), full_page=True)
    SEEN.append(officer.content())
    # The ingest run that took it failed once, with a note naming it.
    with sqlite3.connect(airflow.home / "airflow.db") as con:
        notes = con.execute("select content from dag_run_note").fetchall()
    assert any(BROKEN_FILE + ": rejected" in n for (n,) in notes)


def test_quarantined_rows_show_values_only_on_demand_and_audited(airflow: Airflow, officer) -> None:
    sha = hashlib.sha256(canary_csv().encode()).hexdigest()  # (file_name is sealed: not in SQL)
    assert airflow.store("select count(*) from delivery where sha256 = ?", sha) == [(1,)]
    html = visit(officer, f"{airflow.url}/survivor-link/deliveries/{sha}", "04-quarantined-rows")
    rows = officer.locator("tr.qrow")
    assert rows.count() == 1 and "birth" in rows.first.inner_text().lower()
    assert not [c for c in CANARIES if c in html]
    officer.locator("#show-values").click()
    officer.wait_for_load_state("networkidle")
    assert CANARIES[0] in officer.content()
    audits = airflow.store(
        "select actor from audit_log where action = 'quarantine.values_shown' and subject = ?", sha
    )
    assert audits == [("airflow:officer",)]


def test_a_validation_page_opens_offline_named_by_its_file(airflow: Airflow, officer) -> None:
    """Linked from Deliveries; with every request off this Airflow aborted (no network), the
    page and the index show their content, and nothing was even asked of another host."""
    visit(officer, f"{airflow.url}/survivor-link/deliveries")
    row = officer.locator("tr.delivery", has_text=CANARY_FILE)
    link = row.locator("a.checks")
    assert link.inner_text() == "Loaded with quarantined rows"  # not "Failed"
    assert officer.locator("tr.delivery", has_text=BROKEN_FILE).locator("a.checks").count() == 0
    aborted: list[str] = []

    def offline(route) -> None:
        if route.request.url.startswith(airflow.url + "/"):
            route.continue_()
        else:
            aborted.append(route.request.url)
            route.abort("internetdisconnected")

    officer.context.route("**/*", offline)
    try:
        link.click()
        officer.wait_for_load_state("networkidle")
        assert officer.locator("#file").inner_text() == CANARY_FILE
        outcome = officer.locator("#outcome").inner_text()
        assert outcome.startswith("Loaded with quarantined rows: 1 of 2 rows loaded, 1 quarantined")
        assert officer.locator("tr.check").count() >= 5 and officer.locator("#checks").is_visible()
        officer.screenshot(path=str(SHOTS / "10-validation-page.png"), full_page=True)
        SEEN.append(officer.content())
        officer.locator("text=All validations").click()
        officer.wait_for_load_state("networkidle")
        listed = officer.locator("#validations tr.validation", has_text=CANARY_FILE)
        assert listed.count() == 1 and "Loaded with quarantined rows" in listed.inner_text()
        assert officer.locator("#validations tr.validation").count() >= 6  # every list that loaded
        SEEN.append(officer.content())
    finally:
        officer.context.unroute("**/*", offline)
    assert aborted == []


def test_a_pair_decided_by_keyboard_is_applied_by_the_next_link(airflow: Airflow, officer) -> None:
    # A pair one of whose records belongs to a man with other records (the rest of him shows).
    chosen = airflow.store(
        "select c.id from candidate_pair c join person_record p on p.record_id in (c.record_a, c.record_b)"
        " where c.band = 'review' and c.status = 'open'"
        " and (select count(*) from person_record o where o.person_id = p.person_id) > 1 order by c.id"
    )
    assert chosen, "the synthetic lists leave a review pair touching a man of several records"
    html = visit(officer, f"{airflow.url}/survivor-link/review?pair={chosen[0][0]}", "05-review")
    box = officer.locator("#pair")
    pair = int(box.get_attribute("data-pair"))
    assert pair == chosen[0][0]
    assert officer.locator("tr.agree").count() >= 1  # coloured fields
    assert "match probability" in html
    # The rest of both persons inline: other records, returns, flags (values only when asked).
    a, b = airflow.store("select record_a, record_b from candidate_pair where id = ?", pair)[0]
    person_of = dict(
        airflow.store("select record_id, person_id from person_record where record_id in (?, ?)", a, b)
    )
    for side, rec in (("A", a), ("B", b)):
        text = officer.locator(f"#person-{side}").inner_text()
        pid = person_of.get(rec)
        if pid is None:
            assert "not part of a person yet" in text
        elif side == "B" and pid == person_of.get(a):
            assert f"The same person as record A ({pid})" in text
        else:
            others = airflow.store(
                "select count(*) from person_record where person_id = ? and record_id != ?", pid, rec
            )[0][0]
            events = airflow.store(
                "select count(*) from return_event where person_id = ? and status = 'active'", pid
            )[0][0]
            flags = airflow.store("select count(*) from flag where person_id = ? and status = 'open'", pid)
            said = f"The rest of {pid}: {others} other record(s), {events} return(s), {flags[0][0]} open flag"
            assert said in text
            rows = officer.locator(f"#person-{side} table.other-records tr")
            assert rows.count() == (others + 1 if others else 0)
    tables = officer.locator(".person table.other-records")
    assert tables.count() >= 1
    assert officer.locator(".person th", has_text="says").count() == 0
    visit(officer, f"{airflow.url}/survivor-link/review?pair={pair}&show_values=1")
    assert officer.locator(".person th", has_text="says").count() == tables.count()
    shown = airflow.store("select actor from audit_log where action = 'person.values_shown'")
    assert shown == [("airflow:officer",)] * tables.count()
    visit(officer, f"{airflow.url}/survivor-link/review?pair={pair}")
    officer.keyboard.press("b")  # blind mode: the model's score is hidden
    officer.wait_for_url(lambda u: "blind=1" in u)
    assert officer.locator("#score").count() == 0
    officer.screenshot(path=str(SHOTS / "06-review-blind.png"), full_page=True)
    assert int(officer.locator("#pair").get_attribute("data-pair")) == pair
    officer.keyboard.press("d")  # different, then undo, then same
    officer.wait_for_url(lambda u: f"decided={pair}" in u)
    officer.keyboard.press("u")
    officer.wait_for_url(lambda u: f"undone={pair}" in u)
    assert int(officer.locator("#pair").get_attribute("data-pair")) == pair
    officer.locator("#note").fill("same father and village; typo in the given name")
    officer.locator("#same").focus()
    officer.keyboard.press("s")
    officer.wait_for_url(lambda u: f"decided={pair}" in u)
    SEEN.append(officer.content())
    decided = airflow.store("select decision, decided_by, note from match_decision")
    assert decided == [("same", "airflow:officer", "same father and village; typo in the given name")]
    decisions = "select action from audit_log where action in ('review.decide', 'review.undo')"
    actions = [r[0] for r in airflow.store(decisions)]
    assert actions == ["review.decide", "review.undo", "review.decide"]
    # The next link applies it: the officer triggers the link DAG (the decision is its work).
    token = airflow.token("officer")
    status, text = airflow.call("POST", "/api/v2/dags/link/dagRuns", token, {"logical_date": None})
    assert status == 200, text
    run_id = json.loads(text)["dag_run_id"]
    wait_for(
        "the link run",
        lambda: (
            json.loads(airflow.call("GET", f"/api/v2/dags/link/dagRuns/{run_id}", token)[1])["state"]
            in ("success", "failed")
        ),
        300,
        every=2,
    )
    tis = json.loads(airflow.call("GET", f"/api/v2/dags/link/dagRuns/{run_id}/taskInstances", token)[1])
    assert {t["task_id"]: t["state"] for t in tis["task_instances"]}["link_and_flag"] == "success"
    persons = airflow.store("select person_id from person_record where record_id in (?, ?)", a, b)
    assert len(persons) == 2 and persons[0] == persons[1]


def test_the_person_page_explains_him(airflow: Airflow, officer) -> None:
    a = airflow.store("select record_a from match_decision")[0][0]
    pid = airflow.store("select person_id from person_record where record_id = ?", a)[0][0]
    visit(officer, f"{airflow.url}/survivor-link/person", None)
    assert "printed beside his name in the weekly report" in officer.locator("#how-to-find").inner_text()
    officer.locator("input[name='id']").fill(pid)
    officer.locator("input[name='id']").press("Enter")
    officer.wait_for_load_state("networkidle")
    officer.screenshot(path=str(SHOTS / "07-person.png"), full_page=True)
    html = officer.content()
    SEEN.append(html)
    assert f"Person {pid}" in html
    assert officer.locator("#records tr").count() >= 3  # header + at least the two decided records
    assert "Reviewer decision" in html and "same" in html
    assert officer.locator("table.explain").count() >= 1
    _reads_as_words(airflow, officer, pid)


def _reads_as_words(airflow: Airflow, officer, pid: str) -> None:
    """Dates as Cambodia writes them (dd/mm/yyyy), countries, lists and fields in words, as the
    printed report says them: no ISO date, country code, source code or snake_case name."""
    from linkage.normalise.places import country_name

    events = airflow.store(
        "select return_date, country from return_event where person_id = ? and status = 'active'", pid
    )
    cells = [officer.locator("#events tr").nth(i + 1).locator("td") for i in range(len(events))]
    shown = sorted((c.nth(1).inner_text(), c.nth(2).inner_text()) for c in cells)
    wanted = sorted(
        (
            "unknown" if not day else f"{day[8:10]}/{day[5:7]}/{day[:4]}",
            country_name(code).split(" / ")[0] if code else "",
        )
        for day, code in events
    )
    assert shown == wanted and any(country for _day, country in shown)
    opened = officer.locator("#flags td:nth-child(3)").all_inner_texts()  # none when he has no flag
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", d) for d in opened), opened
    sources = {officer.locator("#records tr").nth(i).locator("td").nth(1).inner_text() for i in range(1, 3)}
    assert sources <= {"IOM", "MoSVY", "NGO hagar", "NGO lscw"}, sources
    fields = officer.locator("table.explain").first.inner_text()
    assert "family name" in fields and "family_name" not in fields
    text = officer.locator("main").inner_text()
    assert not re.search(r"\b\d{4}-\d\d-\d\d\b", text)  # no ISO date anywhere on the page


def test_the_weekly_report_is_previewed_downloaded_and_approved(airflow: Airflow, officer, tmp_path) -> None:
    token = airflow.token("officer")
    status, text = airflow.call("POST", "/api/v2/dags/weekly_report/dagRuns", token, {"logical_date": None})
    assert status == 200, text
    run_id = json.loads(text)["dag_run_id"]
    wait_for("the report to be built", lambda: airflow.store("select count(*) from report")[0][0], 300)
    report_id = airflow.store("select id from report")[0][0]
    section = officer.locator(f"section.report[data-report='{report_id}']")
    # Once asked, the page says it waits for Airflow to settle the pause and shows the form by itself.
    wait_for(
        "the approval to be asked",
        lambda: (
            visit(officer, f"{airflow.url}/survivor-link/report")
            and section.get_attribute("data-phase") in ("settling", "waiting")
        ),
        300,
    )
    asked = time.monotonic()
    if section.get_attribute("data-phase") == "settling":
        assert "the form opens once Airflow is ready" in section.locator(".status").inner_text()
    officer.locator("form.decide").wait_for(timeout=90_000)
    TIMES["approval asked -> form offered (s)"] = round(time.monotonic() - asked, 1)
    officer.screenshot(path=str(SHOTS / "08-report.png"), full_page=True)
    with officer.expect_download() as download:
        officer.locator(f"#download-{report_id}").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    from openpyxl import load_workbook

    assert "Unreferred" in load_workbook(saved, read_only=True).sheetnames
    assert airflow.store("select actor from audit_log where action = 'report.downloaded'") == [
        ("airflow:officer",)
    ]
    visit(officer, f"{airflow.url}/survivor-link/report")  # back from the download
    officer.locator(".reject").click()  # a rejection needs a note: refused in the page, nothing sent
    officer.wait_for_url(lambda u: "error=" in u)
    assert "note is required" in officer.locator("#message").inner_text()
    assert airflow.store("select status from report where id = ?", report_id)[0][0] == "built"
    officer.locator(".approve").click()  # approval without a note
    officer.wait_for_url(lambda u: "message=" in u)
    approved = time.monotonic()
    assert officer.locator("#message").inner_text().startswith("Approved")
    # At once the page says so and that delivery is under way (Airflow knows before the store).
    phase = section.get_attribute("data-phase")
    assert phase in ("delivering", "delivered"), phase
    if phase == "delivering":
        assert "approved by officer: delivering" in section.locator(".status").inner_text()
        officer.screenshot(path=str(SHOTS / "11-report-delivering.png"), full_page=True)
    # ... and it polls: the page turns to delivered by itself, with no reload from here.
    officer.locator(f"section.report[data-report='{report_id}'][data-status='delivered']").wait_for(
        timeout=120_000
    )
    TIMES["approved -> page shows delivered (s)"] = round(time.monotonic() - approved, 1)
    assert airflow.store("select status from report where id = ?", report_id)[0][0] == "delivered"
    # The answer was taken once: the approval was not retried (the scheduler race asks again).
    status, text = airflow.call(
        "GET", f"/api/v2/dags/weekly_report/dagRuns/{run_id}/taskInstances/approve", token
    )
    assert status == 200 and json.loads(text)["try_number"] == 1, text
    assert [p.name for p in (airflow.store_home / "outbox").glob("*.xlsx")]
    officer.screenshot(path=str(SHOTS / "09-report-delivered.png"), full_page=True)
    SEEN.append(officer.content())
    assert "delivered by officer" in officer.content()
    print("\nweekly report timings:", TIMES)


def test_no_canary_in_any_page_without_values_nor_in_airflow(airflow: Airflow) -> None:
    assert len(SEEN) >= 6
    assert [c for html in SEEN for c in CANARIES if c in html] == []
    con = sqlite3.connect(airflow.home / "airflow.db")
    found = []
    for (table,) in con.execute("select name from sqlite_master where type='table'"):
        for row in con.execute(f'select * from "{table}"'):
            text = " ".join(str(v) for v in row if v is not None)
            found += [(table, c) for c in CANARIES if c in text]
    logs = "".join(p.read_text(errors="ignore") for p in airflow.home.rglob("*.log"))
    found += [("logs", c) for c in CANARIES if c in logs]
    assert found == []
    # Log lines at their level: the link task's log has INFO lines and no ERROR line.
    link_logs = [
        json.loads(line)
        for p in airflow.home.rglob("task_id=link_and_flag/*.log")
        for line in p.read_text().splitlines()
        if line.startswith("{")
    ]
    levels = {entry.get("level") for entry in link_logs}
    assert "info" in levels and "error" not in levels, [e for e in link_logs if e.get("level") == "error"][:3]


def test_file_names_shown_on_the_deliveries_pages_are_audited(airflow: Airflow, officer) -> None:
    """A file named after a man: the officer (who may see values) sees its name on the
    Deliveries list and on its page, and each view is audited as delivery.names_shown (who,
    the page's delivery or none, how many names their label withholds), never the name,
    which Airflow's database and logs do not hold either. Last: its drop starts runs."""
    name, named = "sok_dara_intake.csv", "sok_dara"
    body = iom_csv([iom_row("NAMED-1", name="KEO VUTHY", dob="02/03/1991")])
    sha = hashlib.sha256(body.encode()).hexdigest()
    write(airflow.store_home / "landing" / "iom" / name, body)
    wait_for(
        "the named file ingested",
        lambda: airflow.store("select status from delivery where sha256 = ?", sha) == [("ingested",)],
        600,
        every=3,
    )

    def shown() -> list[tuple]:
        return airflow.store(
            "select actor, subject, details from audit_log where action = 'delivery.names_shown' order by id"
        )

    before = len(shown())
    html = visit(officer, f"{airflow.url}/survivor-link/deliveries")
    assert name in html
    listed = shown()[before:]
    assert [(a, s) for a, s, _ in listed] == [("airflow:officer", None)]
    assert json.loads(listed[0][2])["names"] >= 1
    page = visit(officer, f"{airflow.url}/survivor-link/deliveries/{sha}")
    assert name in page
    assert [(a, s, json.loads(d)) for a, s, d in shown()[before + 1 :]] == [
        ("airflow:officer", sha, {"names": 1})
    ]
    assert not [row for row in shown() if named in " ".join(map(str, row))]
    con = sqlite3.connect(airflow.home / "airflow.db")
    found = [
        table
        for (table,) in con.execute("select name from sqlite_master where type='table'")
        for row in con.execute(f'select * from "{table}"')
        if named in " ".join(str(v) for v in row if v is not None)
    ]
    logs = "".join(p.read_text(errors="ignore") for p in airflow.home.rglob("*.log"))
    assert found == [] and named not in logs
