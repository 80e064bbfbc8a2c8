#!/usr/bin/env python3
"""Write a random `slotsim-batch-instance 1` file (for testing the peer scripts).

Usage: make_test_instance.py R S K CAP SEED OUT

R registrants, S sessions each of capacity CAP, and each registrant ranks K
distinct sessions drawn uniformly at random (uniform random order).  SEED
makes the output reproducible (numpy PCG64).  The real benchmark instances
come from the Swift generator; this one only exists for testing/fallback.
"""

import argparse
import os
import sys

import numpy as np


def random_prefs(rng, R, S, K):
    """R x K matrix; each row = K distinct values from range(S), uniform."""
    if K > S:
        raise ValueError(f"K={K} > S={S}: cannot list {K} distinct sessions")
    if R == 0 or K == 0:
        return np.zeros((R, K), dtype=np.int64)
    if S <= 64:
        # Dense: random permutation of all S sessions per row, keep first K.
        return np.argsort(rng.random((R, S)), axis=1)[:, :K]
    # Sparse: draw with replacement, redraw rows that have a duplicate.
    prefs = rng.integers(0, S, size=(R, K))
    while True:
        srt = np.sort(prefs, axis=1)
        bad = np.nonzero((srt[:, 1:] == srt[:, :-1]).any(axis=1))[0]
        if bad.size == 0:
            return prefs
        prefs[bad] = rng.integers(0, S, size=(bad.size, K))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("R", type=int, help="number of registrants")
    ap.add_argument("S", type=int, help="number of sessions")
    ap.add_argument("K", type=int, help="preferences per registrant")
    ap.add_argument("CAP", type=int, help="capacity of every session")
    ap.add_argument("SEED", type=int, help="random seed")
    ap.add_argument("OUT", help="output file")
    a = ap.parse_args(argv)
    if min(a.R, a.S, a.K, a.CAP) < 0:
        ap.error("R, S, K, CAP must be non-negative")

    rng = np.random.default_rng(a.SEED)
    prefs = random_prefs(rng, a.R, a.S, a.K)

    os.makedirs(os.path.dirname(os.path.abspath(a.OUT)), exist_ok=True)
    tmp = a.OUT + ".tmp"
    with open(tmp, "w") as f:
        f.write("slotsim-batch-instance 1\n")
        f.write(f"{a.R} {a.S} {a.K}\n")
        if a.S:
            f.write(f"{a.CAP}\n" * a.S)
        if a.R and a.K:
            np.savetxt(f, prefs, fmt="%d", delimiter=" ")
        elif a.R:
            f.write("\n" * a.R)
    os.replace(tmp, a.OUT)
    print(f"wrote {a.OUT}: R={a.R} S={a.S} K={a.K} cap={a.CAP} seed={a.SEED}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
