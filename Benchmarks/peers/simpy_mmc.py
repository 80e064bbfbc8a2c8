#!/usr/bin/env python3
"""Peer benchmark: an M/M/c queue in SimPy (process-based discrete-event simulation).

Usage: simpy_mmc.py [--customers N] [--servers C] [--arrival-rate L]
                    [--service-rate M] [--seed S]

Model (time unit: minutes):
  - one arrival process generates N customers with exponential inter-arrival
    times (rate L per minute);
  - each customer is its own SimPy process: it requests one unit of a
    simpy.Resource(capacity=C) (FIFO), waits for it, holds it for an
    exponential service time (rate M per minute), then releases it;
  - the run ends when the N-th customer departs: that departure triggers an
    event and env.run(until=that_event) returns (all N customers have then been
    served, since exactly N arrive).

Randomness: random.Random(S) for inter-arrival times and random.Random(S + 1)
for service times (separate streams, so changing C does not change the
arrival sequence).

Each customer's wait in queue (service start - arrival) is recorded.  Reported:
mean wait (minutes) and the fraction of customers with wait > 0, next to the
Erlang C steady-state values P(wait > 0) and E[Wq] = P(wait > 0) / (C*M - L).
The simulation starts empty and idle; with 10^6 customers the warm-up bias is
negligible.

Only env.run(...) is timed (time.process_time() and time.perf_counter());
building the environment and computing statistics are not.  Prints one JSON
line.
"""

import argparse
import json
import math
import platform
import random
import sys
import time

import simpy


def erlang_c(c, lam, mu):
    """Erlang C: (P(wait > 0), mean wait in queue) for an M/M/c queue.

    Returns (nan, nan) when the queue is unstable (lam >= c * mu).
    """
    a = lam / mu  # offered load in Erlangs
    rho = a / c
    if rho >= 1.0:
        return float("nan"), float("nan")
    # Erlang B by the stable recurrence B(0)=1, B(k) = a*B(k-1) / (k + a*B(k-1)),
    # then C = B / (1 - rho * (1 - B)).
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    p_wait = b / (1.0 - rho * (1.0 - b))
    mean_wait = p_wait / (c * mu - lam)
    return p_wait, mean_wait


def build(env, n, c, lam, mu, seed):
    """Set up the M/M/c model on env.  Returns (done_event, waits list)."""
    arrival_rng = random.Random(seed)
    service_rng = random.Random(seed + 1)
    server = simpy.Resource(env, capacity=c)
    done = env.event()
    waits = []
    departed = [0]

    def customer(env):
        arrive = env.now
        with server.request() as req:
            yield req
            waits.append(env.now - arrive)
            yield env.timeout(service_rng.expovariate(mu))
        # leaving the with-block released the server
        departed[0] += 1
        if departed[0] == n:
            done.succeed()

    def arrivals(env):
        for _ in range(n):
            yield env.timeout(arrival_rng.expovariate(lam))
            env.process(customer(env))

    env.process(arrivals(env))
    return done, waits


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000, help="customers to serve (N)")
    ap.add_argument("--servers", type=int, default=10, help="number of servers (c)")
    ap.add_argument("--arrival-rate", type=float, default=9.0, help="arrivals per minute (lambda)")
    ap.add_argument("--service-rate", type=float, default=1.0, help="services per minute per server (mu)")
    ap.add_argument("--seed", type=int, default=1, help="arrival RNG seed; service RNG uses seed+1")
    args = ap.parse_args(argv)

    n, c, lam, mu = args.customers, args.servers, args.arrival_rate, args.service_rate
    if n < 1 or c < 1 or lam <= 0 or mu <= 0:
        ap.error("need customers >= 1, servers >= 1, arrival-rate > 0, service-rate > 0")

    env = simpy.Environment()
    done, waits = build(env, n, c, lam, mu, args.seed)

    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    env.run(until=done)
    cpu_s = time.process_time() - cpu0
    wall_s = time.perf_counter() - wall0

    assert len(waits) == n, (len(waits), n)
    mean_wait = math.fsum(waits) / n
    p_wait = sum(1 for w in waits if w > 0.0) / n
    ec_p_wait, ec_mean_wait = erlang_c(c, lam, mu)

    out = {
        "peer": "simpy",
        "version": simpy.__version__,
        "customers": n,
        "servers": c,
        "arrival_rate": lam,
        "service_rate": mu,
        "seed": args.seed,
        "mean_wait_min": round(mean_wait, 6),
        "p_wait": round(p_wait, 6),
        # null when unstable (arrival-rate >= servers * service-rate)
        "erlang_c_p_wait": None if math.isnan(ec_p_wait) else round(ec_p_wait, 6),
        "erlang_c_mean_wait_min": None if math.isnan(ec_mean_wait) else round(ec_mean_wait, 6),
        "sim_end_min": round(env.now, 3),
        "cpu_s": round(cpu_s, 4),
        "wall_s": round(wall_s, 4),
        "customers_per_cpu_s": round(n / cpu_s, 1) if cpu_s > 0 else None,
        "python": platform.python_version(),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
