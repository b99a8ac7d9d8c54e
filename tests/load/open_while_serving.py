#!/usr/bin/env python3
"""Load driver for open_while_serving.sh (python3 standard library only).

`make-csv` writes the company to import; `run` logs in, creates a survey,
opens a round for everyone and, until every invitation has reached the SMTP
sink, keeps five kinds of traffic going against the same server. It prints
one line per kind and exits 1 if any request failed.
"""
import argparse
import email
import email.policy
import http.client
import json
import queue
import re
import sys
import threading
import time
import urllib.parse
from collections import Counter

TEAMS = ["Engineering/Platform", "Engineering/Apps", "Sales", "Support", "Operations",
         "Finance", "People", "Marketing"]


def make_csv(people):
    out = sys.stdout
    out.write("email,name,team,manager_email,role,hired_on,left_on,leave_reason,regretted\n")
    for i in range(people):
        # Hire dates over five years and one leaver in fifty give the turnover
        # report real work to do.
        hired = f"{2020 + i % 5}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        left, reason = ("2025-06-30", "voluntary") if i % 50 == 49 else ("", "")
        out.write(f"person{i}@example.com,Person {i},{TEAMS[i % len(TEAMS)]},,member,"
                  f"{hired},{left},{reason},\n")


class Stats:
    """Latencies and statuses of one kind of request, shared by its threads."""

    def __init__(self, name, ok):
        self.name, self.ok = name, ok
        self.lock = threading.Lock()
        self.latencies, self.statuses, self.samples = [], Counter(), []

    def record(self, status, seconds, body=b""):
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] += 1
            if status not in self.ok and len(self.samples) < 5:
                self.samples.append(f"{status}: {body[:200]!r}")

    def failures(self):
        return {s: n for s, n in self.statuses.items() if s not in self.ok}

    def row(self):
        lat = sorted(self.latencies)
        def pct(p):
            return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else 0.0
        other = ", ".join(f"{s}: {n}" for s, n in sorted(self.failures().items(), key=str)) or "none"
        return (f"| {self.name} | {len(lat)} | {other} | {pct(0.5):.1f} | {pct(0.99):.1f} "
                f"| {(lat[-1] * 1000 if lat else 0):.1f} |")


class Client:
    """One keep-alive connection per thread, as a browser or API client holds."""

    def __init__(self, base, headers=None):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.headers = headers or {}
        self.conn = None

    def request(self, method, path, body=None, headers=None, timeout=60):
        hdrs = dict(self.headers, **(headers or {}))
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        start = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            self.conn.request(method, path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
            payload = resp.read()
            status = resp.status
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
        except Exception as e:  # a dropped or timed-out request is a failure too
            self.close()
            status, payload = type(e).__name__, str(e).encode()
        return status, time.perf_counter() - start, payload

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def sink_count(path):
    """Messages the sink has taken: the last `mesg=N` of smtp-sink -c."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 200))
            found = re.findall(rb"mesg=(\d+)", f.read())
            return int(found[-1]) if found else 0
    except FileNotFoundError:
        return 0


class TokenReader:
    """Reads answer links from the sink's dump only as fast as they are used:
    parsing every one of 100,000 emails would load the machine more than the
    server under test."""

    LINK = re.compile(r"/s/([A-Za-z0-9_-]{16,})")

    def __init__(self, path):
        self.path, self.offset, self.pending = path, 0, b""
        self.tokens = queue.Queue()
        self.seen = set()
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            if self.tokens.empty():
                self._read()
        try:
            return self.tokens.get_nowait()
        except queue.Empty:
            return None

    def _read(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read(1 << 20)
        except FileNotFoundError:
            return
        self.offset += len(chunk)
        data = self.pending + chunk
        # Each dumped message starts with the sink's own X-Client-Addr header;
        # the last one may still be incomplete, so it waits for the next read.
        parts = re.split(rb"(?m)^(?=X-Client-Addr: )", data)
        self.pending = parts.pop() if parts else b""
        for raw in parts:
            if not raw.strip():
                continue
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            body = msg.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            for token in set(self.LINK.findall(text)):
                if token not in self.seen:
                    self.seen.add(token)
                    self.tokens.put(token)


def main_run(a):
    base = a.base
    probe = Client(base)
    deadline = time.time() + 120
    while True:  # the server migrates before it listens
        status, _, _ = probe.request("GET", "/healthz", timeout=5)
        if status == 200:
            break
        if time.time() > deadline:
            sys.exit(f"server not healthy after 120 s ({status}); see {a.server_log}")
        time.sleep(0.2)

    status, _, body = probe.request("POST", "/api/v1/auth/login",
                                    {"email": a.email, "password": a.password})
    if status != 200:
        sys.exit(f"login failed: {status} {body[:200]!r}")
    token = json.loads(body)["token"]
    api = {"Authorization": f"Bearer {token}"}
    cookie = {"Cookie": f"pulse_session={token}"}
    admin = Client(base, api)

    survey = {
        "title": "Weekly pulse (load test)",
        "questions": [{"kind": "enps", "prompt": "How likely are you to recommend working here?"},
                      {"kind": "text", "prompt": "Anything else?", "required": False}],
        "enps_scale": "1-10",
        # A one-off far in the future: the only round is the one opened below.
        "schedule": {"cadence": "once", "starts_on": "2035-01-01", "send_time": "09:00",
                     "timezone": "UTC", "open_days": 5},
        "min_group_size": 5,
    }
    status, _, body = admin.request("POST", "/api/v1/surveys", survey)
    if status != 201:
        sys.exit(f"survey not created: {status} {body[:300]!r}")
    survey_id = json.loads(body)["id"]
    status, _, body = admin.request("GET", f"/api/v1/surveys/{survey_id}")
    questions = {q["kind"]: q["id"] for q in json.loads(body)["questions"]}
    status, _, body = admin.request("GET", "/api/v1/employees?per_page=200")
    employee_ids = [e["id"] for e in json.loads(body) if e.get("email") != a.email]

    stop = threading.Event()
    stats = {
        "answers": Stats("answers (POST /api/v1/responses)", {201}),
        "pages": Stats("page loads (/login, /, /surveys)", {200}),
        "edits": Stats("admin edits (PATCH /api/v1/employees/{id})", {200}),
        "health": Stats("/healthz every 100 ms", {200}),
        "reports": Stats("reports (enps by month, turnover, enps/teams)", {200}),
    }
    reader = TokenReader(a.sink_dump)

    def answers():
        c = Client(base)
        n = 0
        while not stop.is_set():
            tok = reader.take()
            if tok is None:  # no email delivered yet
                time.sleep(0.05)
                continue
            n += 1
            body = {"token": tok, "answers": [
                {"question_id": questions["enps"], "score": 1 + n % 10},
                {"question_id": questions["text"], "text": f"load test answer {n}"}]}
            stats["answers"].record(*c.request("POST", "/api/v1/responses", body))

    def pages():
        anonymous, signed_in = Client(base), Client(base, cookie)
        while not stop.is_set():
            stats["pages"].record(*anonymous.request("GET", "/login"))
            stats["pages"].record(*signed_in.request("GET", "/"))
            stats["pages"].record(*signed_in.request("GET", "/surveys"))
            time.sleep(0.05)

    def edits():
        c = Client(base, api)
        n = 0
        while not stop.is_set():
            emp = employee_ids[n % len(employee_ids)]
            n += 1
            stats["edits"].record(*c.request("PATCH", f"/api/v1/employees/{emp}",
                                             {"name": f"Renamed {emp} #{n}"}))
            time.sleep(0.3)

    def health():
        c = Client(base)
        while not stop.is_set():
            start = time.perf_counter()
            stats["health"].record(*c.request("GET", "/healthz"))
            time.sleep(max(0.0, 0.1 - (time.perf_counter() - start)))

    def reports():
        c = Client(base, api)
        paths = ["/api/v1/reports/enps?group_by=month", "/api/v1/reports/turnover",
                 "/api/v1/reports/enps/teams"]
        while not stop.is_set():
            for p in paths:
                stats["reports"].record(*c.request("GET", p))

    workers = ([answers] * a.answer_threads + [pages, edits, health]
               + [reports] * a.report_threads)
    threads = [threading.Thread(target=w, daemon=True) for w in workers]
    for t in threads:
        t.start()
    time.sleep(1)  # the traffic is already flowing when the round opens

    started = time.perf_counter()
    status, post_seconds, body = admin.request("POST", f"/api/v1/surveys/{survey_id}/rounds",
                                               timeout=600)
    if status != 201:
        stop.set()
        sys.exit(f"round not opened: {status} {body[:300]!r}")
    round_id = json.loads(body)["id"]

    opened_at = first_at = delivered_at = None
    invited = 0
    poll = Client(base, api)
    while delivered_at is None and time.perf_counter() - started < a.timeout:
        now = time.perf_counter() - started
        if opened_at is None:
            status, _, body = poll.request("GET", f"/api/v1/surveys/{survey_id}/rounds")
            if status == 200:
                r = next(r for r in json.loads(body) if r["id"] == round_id)
                if not r.get("opening"):
                    opened_at, invited = now, r["invited"]
        count = sink_count(a.sink_count)
        # The first email tells how long delivery waited to start (the
        # dispatcher's tick), the last how fast it then went.
        if first_at is None and count > 0:
            first_at = now
        if opened_at is not None and count >= invited:
            delivered_at = now
        time.sleep(0.1)
    time.sleep(2)  # a little traffic after the last email, once the dispatcher is idle
    stop.set()
    for t in threads:
        t.join(timeout=120)

    rss = ""
    try:
        with open(f"/proc/{a.server_pid}/status") as f:
            rss = next((l.split(":")[1].strip() for l in f if l.startswith("VmHWM")), "")
    except OSError:
        pass
    logged_errors = 0
    with open(a.server_log, errors="replace") as f:
        logged_errors = sum(1 for l in f if "ERROR" in l or "panicked" in l)

    print()
    print(f"round {round_id}: POST /rounds answered in {post_seconds:.2f} s; "
          f"opened (invitations written) after "
          + (f"{opened_at:.1f} s" if opened_at is not None else "NOT within the timeout")
          + f"; {sink_count(a.sink_count)} of {invited} emails at the sink after "
          + (f"{delivered_at:.1f} s" if delivered_at is not None else "NOT within the timeout")
          + (f"; first email after {first_at:.1f} s, then {invited / max(delivered_at - first_at, 0.001):.0f} messages/s"
             if delivered_at else ""))
    print(f"server peak RSS {rss or 'unknown'}; error lines in the server log: {logged_errors}")
    print()
    print("| requests during opening and delivery | count | other statuses | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    failed = []
    for s in stats.values():
        print(s.row())
        if s.failures():
            failed.append(s)
    for s in failed:
        print(f"\n{s.name}: unexpected answers, first ones:", *s.samples, sep="\n  ")
    complete = opened_at is not None and delivered_at is not None
    if failed or not complete or stats["answers"].statuses[201] == 0:
        print("\nFAILED" + ("" if complete else ": the round was not delivered in time")
              + ("" if stats["answers"].statuses[201] else ": no answer went through"))
        sys.exit(1)
    print("\nOK: no 5xx, no 408, no dropped request, every answer accepted")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("make-csv")
    c.add_argument("--people", type=int, required=True)
    r = sub.add_parser("run")
    for name in ("--base", "--email", "--password", "--sink-dump", "--sink-count",
                 "--server-log"):
        r.add_argument(name, required=True)
    r.add_argument("--server-pid", type=int, required=True)
    r.add_argument("--answer-threads", type=int, default=4)
    r.add_argument("--report-threads", type=int, default=2)
    r.add_argument("--timeout", type=float, default=1800, help="seconds for opening and delivery")
    a = p.parse_args()
    if a.cmd == "make-csv":
        make_csv(a.people)
    else:
        main_run(a)


if __name__ == "__main__":
    main()
