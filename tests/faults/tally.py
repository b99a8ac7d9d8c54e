#!/usr/bin/env python3
"""Helpers of run.sh: what the SMTP sink received, survey links in it, and a
loop that answers surveys and records which answers the server acknowledged.

  tally.py delivery EXPECTED_IDS_FILE SINK_DIR   -> "delivered duplicates missing"
  tally.py tokens SINK_DIR                       -> one survey-link token a line
  tally.py answer BASE_URL TOKENS_FILE ACK_FILE Q_ENPS Q_SCALE [KILL_PID KILL_AFTER]
  tally.py hashes FILE                           -> the SHA-256 of each line
"""
import collections
import email
import email.policy
import glob
import hashlib
import json
import os
import re
import signal
import sys
import threading
import urllib.error
import urllib.request


def messages(sink_dir):
    for path in sorted(glob.glob(os.path.join(sink_dir, "*.eml"))):
        with open(path, "rb") as f:
            yield email.message_from_bytes(f.read(), policy=email.policy.default)


def delivery(expected_file, sink_dir):
    with open(expected_file) as f:
        expected = {line.strip() for line in f if line.strip()}
    counts = collections.Counter(m["Message-ID"].strip() for m in messages(sink_dir))
    delivered = len(expected & counts.keys())
    duplicates = sum(counts[i] - 1 for i in expected if i in counts)
    missing = len(expected - counts.keys())
    print(delivered, duplicates, missing)


def tokens(sink_dir):
    seen = set()
    for m in messages(sink_dir):
        text = m.get_body(preferencelist=("plain",)).get_content()
        for token in re.findall(r"/s/([0-9a-f]{64})", text):
            if token not in seen:
                seen.add(token)
                print(token)


def answer(base, tokens_file, ack_file, q_enps, q_scale, kill_pid=None, kill_after=None):
    with open(tokens_file) as f:
        todo = [t.strip() for t in f if t.strip()]
    lock = threading.Lock()
    ack = open(ack_file, "a")

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                token = todo.pop()
            body = json.dumps({
                "token": token,
                "answers": [{"question_id": int(q_enps), "score": 9},
                            {"question_id": int(q_scale), "score": 4}],
            }).encode()
            req = urllib.request.Request(base + "/api/v1/responses", data=body,
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=10) as res:
                    status = res.status
            except urllib.error.HTTPError as e:
                status = e.code
            except OSError:
                status = None
            with lock:
                statuses[status] += 1
            if status == 201:
                # Written and flushed before anything else: an acknowledged answer.
                with lock:
                    ack.write(token + "\n")
                    ack.flush()
                    acked[0] += 1
                    # The kill comes from here, between two acknowledgements,
                    # so it lands while the other clients' answers are in flight.
                    if kill_pid and acked[0] == int(kill_after):
                        os.kill(int(kill_pid), signal.SIGKILL)

    statuses = collections.Counter()
    acked = [0]
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("answers by status:", dict(statuses), file=sys.stderr)


def hashes(path):
    with open(path) as f:
        for line in f:
            if line.strip():
                print(hashlib.sha256(line.strip().encode()).hexdigest())


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"delivery": delivery, "tokens": tokens, "answer": answer, "hashes": hashes}[cmd](*args)
