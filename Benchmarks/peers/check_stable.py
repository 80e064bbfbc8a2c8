#!/usr/bin/env python3
"""Check an assignment for a `slotsim-batch-instance 1` file.

Usage: check_stable.py INSTANCE ASSIGNMENT [--no-serial] [--valid-only]

ASSIGNMENT has one line per registrant: session index or -1 (the format
written by matching_hr.py --assignment).  Checks, in plain Python loops:

1. validity: every assigned session is on the registrant's list and no session
   is over capacity;
2. stability (brute force over every acceptable pair): registrant r and a
   session s that r ranks above its assignment (or r is unassigned) block if
   s has a free seat or holds some registrant with a larger index than r;
3. unless --no-serial: equality with serial dictatorship in index order.
   Because every session ranks registrants by the same global order, the
   stable matching is unique and equals serial dictatorship, so this is the
   exact expected answer for any correct deferred-acceptance implementation.

--valid-only runs check 1 only (e.g. for ortools_mcf.py output, which is not
meant to be stable).

Exits 0 and prints "OK ..." if all checks pass, else prints the problems
(at most 10 of each kind) and exits 1.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import instance_io  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance")
    ap.add_argument("assignment")
    ap.add_argument("--no-serial", action="store_true",
                    help="skip the comparison with serial dictatorship")
    ap.add_argument("--valid-only", action="store_true",
                    help="only check validity (lists and capacities)")
    a = ap.parse_args(argv)

    try:
        inst = instance_io.read_instance(a.instance)
    except (OSError, ValueError) as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
    prefs = inst.prefs.tolist()
    caps = inst.capacities.tolist()
    asg = instance_io.read_assignment(a.assignment).tolist()
    problems = []  # summary entries, one per failed check
    invalid = 0

    def report(msg):
        nonlocal invalid
        invalid += 1
        if invalid <= 10:
            print(msg)

    if len(asg) != inst.R:
        print(f"FAIL: assignment has {len(asg)} lines, instance has {inst.R} registrants")
        return 1

    # 1. validity
    members = [[] for _ in range(inst.S)]
    for r, s in enumerate(asg):
        if s == -1:
            continue
        if not (0 <= s < inst.S) or s not in prefs[r]:
            report(f"invalid: registrant {r} assigned to {s}, not on its list {prefs[r]}")
            continue
        members[s].append(r)
    for s in range(inst.S):
        if len(members[s]) > caps[s]:
            report(f"invalid: session {s} has {len(members[s])} > capacity {caps[s]}")
    if invalid:
        problems.append(f"{invalid} validity violations")

    assigned = sum(1 for s in asg if s != -1)
    if a.valid_only:
        if problems:
            print("FAIL: " + "; ".join(problems))
            return 1
        print(f"OK: valid; {assigned}/{inst.R} assigned")
        return 0

    # 2. stability, brute force over every (registrant, listed session) pair
    blocking = 0
    for r in range(inst.R):
        for s in prefs[r]:
            if s == asg[r]:
                break  # sessions after this are ranked below r's assignment
            if len(members[s]) < caps[s] or any(m > r for m in members[s]):
                blocking += 1
                if blocking <= 10:
                    print(f"blocking pair: registrant {r}, session {s} "
                          f"(r's assignment {asg[r]}, session has "
                          f"{len(members[s])}/{caps[s]})")
    if blocking:
        problems.append(f"{blocking} blocking pairs")

    # 3. serial dictatorship in priority (index) order
    if not a.no_serial:
        left = caps[:]
        mismatches = 0
        for r in range(inst.R):
            want = -1
            for s in prefs[r]:
                if left[s] > 0:
                    left[s] -= 1
                    want = s
                    break
            if want != asg[r]:
                mismatches += 1
                if mismatches <= 10:
                    print(f"differs from serial dictatorship: registrant {r} "
                          f"has {asg[r]}, expected {want}")
        if mismatches:
            problems.append(f"{mismatches} registrants differ from serial dictatorship")

    if problems:
        print("FAIL: " + "; ".join(problems))
        return 1
    print(f"OK: valid, no blocking pair"
          f"{'' if a.no_serial else ', equals serial dictatorship'}; "
          f"{assigned}/{inst.R} assigned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
