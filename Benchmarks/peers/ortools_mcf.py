#!/usr/bin/env python3
"""Peer benchmark: OR-Tools SimpleMinCostFlow on the registrant/session network.

Usage: ortools_mcf.py INSTANCE [--assignment OUT] [--unassigned-cost U]
                               [--method solve|max-flow-min-cost]

This is a different allocation rule from deferred acceptance: it ignores the
priority order and minimises total preference rank (0 = first choice) over
all feasible assignments -- the "global optimum" baseline for the instance.

Network (node ids):
  registrant r         = r            supply +1
  session s            = R + s
  sink                 = R + S        supply -R
  arcs  r -> session p[r][j]   capacity 1,            cost j  (rank 0..K-1)
        session s -> sink      capacity capacity[s],  cost 0
        r -> sink              capacity 1,            cost U  ("unassigned";
                                                        --method solve only)

The per-registrant supply of +1 is the "source -> registrant, capacity 1" arc
with the source folded away (that arc is always saturated); it saves R arcs
and a node.

--method solve (default): times SimpleMinCostFlow.solve().  The direct
  r -> sink arc keeps the problem feasible for any capacities (every unit can
  always reach the sink), so the optimum minimises
      sum of ranks of assigned registrants + U * (number unassigned),
  i.e. "unassigned counts as rank U".  Default U = K + 1 (worse than any
  listed session).  With a small U the solver may leave a registrant out if
  that lets several others move up (fewer assigned than the maximum).  Any
  U > (K-1) * min(R, total capacity) makes the optimum lexicographic (max
  number assigned, then min rank), because no assignment's rank cost reaches
  U; but OR-Tools' cost scaling then needs more phases (about 2.5x slower at
  10^6 registrants), so it is not the default.
--method max-flow-min-cost: no r -> sink arcs; times
  SimpleMinCostFlow.solve_max_flow_with_min_cost(), which finds the maximum
  flow and the min-cost one among them: the lexicographic optimum with the
  small cost range 0..K-1.

Only the solver call is timed (process_time and perf_counter); arcs are added
with the numpy-vectorised add_arcs_with_capacity_and_unit_cost (setup, not
timed).  Prints one JSON line.  total_rank_cost = sum of the ranks of the
assigned registrants (U penalties excluded; optimal_cost includes them).
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import instance_io  # noqa: E402

import ortools  # noqa: E402
from ortools.graph.python import min_cost_flow  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance")
    ap.add_argument("--assignment", metavar="OUT",
                    help="write one line per registrant: session index or -1")
    ap.add_argument("--unassigned-cost", type=int, metavar="U", default=None,
                    help="cost of the registrant -> sink arc (default K+1; "
                         "--method solve only)")
    ap.add_argument("--method", choices=("solve", "max-flow-min-cost"),
                    default="solve", help="solver call to time (default: solve)")
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    try:
        inst = instance_io.read_instance(a.instance)
    except (OSError, ValueError) as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
    t1 = time.perf_counter()
    R, S, K = inst.R, inst.S, inst.K
    caps = inst.capacities
    if a.method == "solve":
        U = K + 1 if a.unassigned_cost is None else a.unassigned_cost
    elif a.unassigned_cost is not None:
        ap.error("--unassigned-cost only applies to --method solve")
    else:
        U = None

    sink = R + S
    regs = np.arange(R, dtype=np.int32)
    # registrant -> preferred session, cost = rank
    pref_tails = np.repeat(regs, K)
    pref_heads = (inst.prefs.ravel() + R).astype(np.int32)
    pref_caps = np.ones(R * K, dtype=np.int64)
    pref_costs = np.tile(np.arange(K, dtype=np.int64), R)
    # session -> sink
    sess_tails = np.arange(R, R + S, dtype=np.int32)
    sess_heads = np.full(S, sink, dtype=np.int32)
    sess_costs = np.zeros(S, dtype=np.int64)
    # registrant -> sink ("unassigned")
    un_heads = np.full(R, sink, dtype=np.int32)
    un_caps = np.ones(R, dtype=np.int64)
    un_costs = np.full(R, 0 if U is None else U, dtype=np.int64)

    smcf = min_cost_flow.SimpleMinCostFlow()
    pref_arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        pref_tails, pref_heads, pref_caps, pref_costs)
    smcf.add_arcs_with_capacity_and_unit_cost(
        sess_tails, sess_heads, caps.astype(np.int64), sess_costs)
    if U is not None:
        smcf.add_arcs_with_capacity_and_unit_cost(regs, un_heads, un_caps, un_costs)
    nodes = np.arange(R + S + 1, dtype=np.int32)
    supplies = np.zeros(R + S + 1, dtype=np.int64)
    supplies[:R] = 1
    supplies[sink] = -R
    smcf.set_nodes_supplies(nodes, supplies)
    t2 = time.perf_counter()

    c0, w0 = time.process_time(), time.perf_counter()
    if a.method == "solve":
        status = smcf.solve()
    else:
        status = smcf.solve_max_flow_with_min_cost()
    c1, w1 = time.process_time(), time.perf_counter()

    result = {
        "peer": "ortools-min-cost-flow",
        "version": ortools.__version__,
        "registrants": R,
        "sessions": S,
    }
    if status != smcf.OPTIMAL:
        result.update({"status": status.name, "method": a.method,
                       "solve_cpu_s": round(c1 - c0, 6),
                       "solve_wall_s": round(w1 - w0, 6)})
        print(json.dumps(result))
        return 1

    flows = np.asarray(smcf.flows(np.asarray(pref_arcs, dtype=np.int32)),
                       dtype=np.int64).reshape(R, K)
    assigned = int(flows.sum())
    total_rank = int((flows * np.arange(K, dtype=np.int64)).sum())
    optimal_cost = int(smcf.optimal_cost())
    # Internal consistency: objective = rank cost + U per unassigned registrant.
    assert optimal_cost == total_rank + (U or 0) * (R - assigned), (optimal_cost, total_rank)

    if a.assignment:
        has = flows.any(axis=1) if K else np.zeros(R, dtype=bool)
        choice = flows.argmax(axis=1) if K else np.zeros(R, dtype=np.int64)
        assignment = np.where(has, inst.prefs[np.arange(R), choice] if K else -1, -1)
        instance_io.write_assignment(a.assignment, assignment)

    result.update({
        "assigned": assigned,
        "total_rank_cost": total_rank,
        "solve_cpu_s": round(c1 - c0, 6),
        "solve_wall_s": round(w1 - w0, 6),
        "setup_wall_s": round(t2 - t1, 6),
        "read_wall_s": round(t1 - t0, 6),
        "status": status.name,
        "method": a.method,
        "optimal_cost": optimal_cost,
        "unassigned_cost": U,
        "nodes": int(smcf.num_nodes()),
        "arcs": int(smcf.num_arcs()),
        "python": platform.python_version(),
    })
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
