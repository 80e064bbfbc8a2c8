#!/usr/bin/env python3
"""Peer benchmark: PyPI `matching` (HospitalResident, resident-optimal).

Usage: matching_hr.py INSTANCE [--assignment OUT] [--setup direct|library]

Reads a `slotsim-batch-instance 1` file and builds the hospital-resident game:
residents = registrants with their ranked session lists; hospital s = session
s with the file's capacity, ranking exactly the registrants that listed it, in
ascending registrant index (the single global priority order).  Only
`game.solve(optimal="resident")` is timed (process_time and perf_counter).
Prints one JSON line to stdout.  With --assignment OUT, writes one line per
registrant: the assigned session index, or -1.

Setup modes (neither is timed; both give the library the same player objects):
  direct  (default)  build the Player/Hospital objects exactly as the library's
          own `_make_players` does, then attach them to a HospitalResident
          without running HospitalResident.__init__.  __init__ deep-copies the
          whole player graph with the recursive copy.deepcopy (RecursionError at
          ~10^4 registrants) and runs input checks that are O(R*S) list scans;
          the instance is valid by construction, so both are skipped.  solve()
          is the unmodified library code either way.
  library  HospitalResident.create_from_dictionaries(...): the public path.
          Only usable for small instances (see above).

Two normalisations the library needs (they do not change the stable matching):
sessions of capacity 0 are dropped from preference lists (the library crashes
proposing to a full 0-capacity hospital; such a session can accept no one),
and registrants left with an empty list are not given to the solver (the
library crashes on them too); they are reported unassigned (-1).
"""

import argparse
import gc
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import instance_io  # noqa: E402

import matching  # noqa: E402
from matching import BaseGame, Hospital, Player  # noqa: E402
from matching.games import HospitalResident  # noqa: E402


def hospital_lists(inst, keep):
    """For each session s: registrants (ascending index) that list s.

    `keep` is a bool[R, K] mask of the preference entries given to the solver.
    """
    R, K, S = inst.R, inst.K, inst.S
    flat = inst.prefs.ravel()
    reg = np.repeat(np.arange(R, dtype=np.int64), K)
    m = keep.ravel()
    flat, reg = flat[m], reg[m]
    # Stable sort by session keeps registrants in ascending index order.
    order = np.argsort(flat, kind="stable")
    reg_sorted = reg[order].tolist()
    counts = np.bincount(flat, minlength=S).tolist()
    out, pos = [], 0
    for c in counts:
        out.append(reg_sorted[pos:pos + c])
        pos += c
    return out


def build_game(inst, mode):
    caps = inst.capacities
    keep = caps[inst.prefs] > 0  # drop capacity-0 sessions (see module doc)
    active = keep.any(axis=1) if inst.K else np.zeros(inst.R, dtype=bool)
    pref_rows = [row[m].tolist() for row, m in zip(inst.prefs, keep)] if inst.R else []
    hosp_prefs = hospital_lists(inst, keep)
    active_ids = np.nonzero(active)[0].tolist()

    if mode == "library":
        resident_prefs = {r: pref_rows[r] for r in active_ids}
        hospital_prefs = {s: hosp_prefs[s] for s in range(inst.S)}
        capacities = {s: int(caps[s]) for s in range(inst.S)}
        try:
            game = HospitalResident.create_from_dictionaries(
                resident_prefs, hospital_prefs, capacities)
        except RecursionError:
            sys.exit("matching_hr.py: the library constructor hit RecursionError "
                     "(copy.deepcopy of the player graph); use --setup direct")
        return game

    # mode == "direct": same objects as matching.games.hospital_resident._make_players
    residents = {r: Player(name=r) for r in active_ids}
    hospitals = [Hospital(name=s, capacity=int(caps[s])) for s in range(inst.S)]
    for r in active_ids:
        residents[r].set_prefs([hospitals[s] for s in pref_rows[r]])
    for s, h in enumerate(hospitals):
        h.set_prefs([residents[r] for r in hosp_prefs[s]])
    res_list = list(residents.values())

    game = HospitalResident.__new__(HospitalResident)
    # What HospitalResident.__init__ sets, minus the deepcopy and check_inputs().
    game.residents = res_list
    game.hospitals = hospitals
    game.clean = False
    game._all_residents = res_list
    game._all_hospitals = hospitals
    BaseGame.__init__(game, False)
    return game


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance")
    ap.add_argument("--assignment", metavar="OUT",
                    help="write one line per registrant: session index or -1")
    ap.add_argument("--setup", choices=("direct", "library"), default="direct",
                    help="how the game object is built (default: direct)")
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    try:
        inst = instance_io.read_instance(a.instance)
    except (OSError, ValueError) as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
    t1 = time.perf_counter()
    game = build_game(inst, a.setup)
    t2 = time.perf_counter()

    # Setup garbage should not be collected on the solve's clock; the cyclic
    # GC stays enabled during the solve (the library's normal operating mode).
    gc.collect()
    c0, w0 = time.process_time(), time.perf_counter()
    game.solve(optimal="resident")
    c1, w1 = time.process_time(), time.perf_counter()

    assignment = np.full(inst.R, -1, dtype=np.int64)
    for res in game.residents:
        if res.matching is not None:
            assignment[res.name] = res.matching.name
    assigned = int((assignment >= 0).sum())

    if a.assignment:
        instance_io.write_assignment(a.assignment, assignment)

    print(json.dumps({
        "peer": "matching",
        "version": matching.__version__,
        "registrants": inst.R,
        "sessions": inst.S,
        "assigned": assigned,
        "solve_cpu_s": round(c1 - c0, 6),
        "solve_wall_s": round(w1 - w0, 6),
        "setup_wall_s": round(t2 - t1, 6),
        "read_wall_s": round(t1 - t0, 6),
        "setup": a.setup,
        "python": platform.python_version(),
    }))


if __name__ == "__main__":
    main()
