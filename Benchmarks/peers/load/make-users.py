#!/usr/bin/env python3
"""Creates N logged-in users with one beneficiary each on a running slotsim serve and
writes `token reference` lines for schedule.lua.   make-users.py PORT OUTBOX N OUT"""
import concurrent.futures, hashlib, json, sys, threading, urllib.request

port, outbox, n, out = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
base = f"http://127.0.0.1:{port}/api/v2/"

def call(path, body, token=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")

seen, offset, lock = {}, 0, threading.Lock()

def otp_for(txn):
    """Reads the outbox's new lines only (re-reading it whole per user is quadratic)."""
    global offset
    with lock:
        if txn not in seen:
            with open(outbox) as f:
                f.seek(offset)
                chunk = f.read()
            complete = chunk[:chunk.rfind("\n") + 1]
            offset += len(complete.encode())
            for line in complete.splitlines():
                entry = json.loads(line)
                seen[entry["txnId"]] = entry["otp"]
        if txn in seen:
            return seen.pop(txn)
    raise RuntimeError("no OTP for " + txn)

def user(i):
    txn = call("auth/public/generateOTP", {"mobile": "9%09d" % i})["txnId"]
    otp = otp_for(txn)
    token = call("auth/public/confirmOTP", {"otp": hashlib.sha256(otp.encode()).hexdigest(), "txnId": txn})["token"]
    ref = call("registration/beneficiary/new", {"name": "Load Test", "birth_year": 1990, "gender_id": 1,
                                                  "photo_id_type": 1, "photo_id_number": "LOAD1234"}, token)["beneficiary_reference_id"]
    return f"{token} {ref}"

with concurrent.futures.ThreadPoolExecutor(8) as pool:
    lines = list(pool.map(user, range(n)))
open(out, "w").write("\n".join(lines) + "\n")
print(f"make-users: {n} users written to {out}")
