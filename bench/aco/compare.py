#!/usr/bin/env python3
"""shopgpu ACO beside OR-Tools routing (guided local search) and PyVRP, same instances, same
time limit, same machine, one after the other (never concurrently). Every tool is scored in the
instance's own TSPLIB metric: OR-Tools and PyVRP get the integer matrix of bench/aco/tsplib.py;
their routes are re-checked (coverage, capacity) and re-costed here.

  bench/.venv/bin/python bench/aco/compare.py --bench build/bench/shopgpu-aco-bench \\
      --kind tsp --time 10 [--max-n 1002] [--names a,b,...]
  bench/.venv/bin/python bench/aco/compare.py --bench ... --kind cvrp --time 60 \\
      [--max-customers 300] [--names X-n101-k25,...]

Prints the machine, then a markdown table of gaps (%) to the optimum (TSPLIB optima.csv) or
best known solution (CVRPLIB bks.csv) and the means. shopgpu uses every core the process may
use (its default); OR-Tools and PyVRP are single-threaded."""

import argparse
import csv
import math
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tsplib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data"))


def instances(args):
    if args.kind == "tsp":
        ref = os.path.join(args.data, "tsplib", "optima.csv")
        rows = list(csv.DictReader(open(ref)))
        out = [(r["name"], int(r["n"]), float(r["optimal_length"]),
                os.path.join(args.data, "tsplib", "instances", r["name"] + ".tsp"))
               for r in rows if int(r["n"]) <= args.max_n]
    else:
        ref = os.path.join(args.data, "cvrplib", "bks.csv")
        rows = list(csv.DictReader(open(ref)))
        out = [(r["name"], int(r["dimension"]), float(r["bks_cost"]),
                os.path.join(args.data, "cvrplib", "instances", r["set"], r["name"] + ".vrp"))
               for r in rows if r["set"] == args.set and int(r["customers"]) <= args.max_customers]
    if args.names:
        keep = args.names.split(",")
        out = [o for o in out if o[0] in keep]
    return ref, sorted(out, key=lambda o: (o[1], o[0]))


def run_ours(args, ref, path):
    cmd = [args.bench, "--csv", "--time", str(args.time), "--seed", str(args.seed), "--ref", ref,
           "--backend", args.backend]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    out = subprocess.run(cmd + [path], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT,"):
            f = line.split(",")
            return {"cost": float(f[4]), "feasible": f[12] == "1", "t_best": float(f[6])}
    return {"cost": math.nan, "feasible": False, "error": out.stderr.strip()[-200:]}


def fleet(demand, capacity):
    lb = math.ceil(demand.sum() / capacity)
    return int(lb * 1.1) + 2


def check_routes(routes, n, demand, capacity):
    seen = sorted(c for r in routes for c in r)
    if seen != list(range(1, n)):
        return False
    return demand is None or all(sum(demand[c] for c in r) <= capacity for r in routes)


def run_ortools(d, demand, capacity, time_limit, seed):
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2
    n = len(d)
    vehicles = 1 if demand is None else fleet(demand, capacity)
    manager = pywrapcp.RoutingIndexManager(n, vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    transit = routing.RegisterTransitMatrix(d.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    if demand is not None:
        load = routing.RegisterUnaryTransitVector([int(q) for q in demand])
        routing.AddDimensionWithVehicleCapacity(load, 0, [capacity] * vehicles, True, "load")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    params.time_limit.FromMilliseconds(int(time_limit * 1000))
    sol = routing.SolveWithParameters(params)
    if sol is None:
        return {"cost": math.nan, "feasible": False}
    routes = []
    for v in range(vehicles):
        idx, r = routing.Start(v), []
        idx = sol.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            r.append(manager.IndexToNode(idx))
            idx = sol.Value(routing.NextVar(idx))
        if r:
            routes.append(r)
    cost = tsplib.routes_cost(d, routes)
    ok = check_routes(routes, n, demand, capacity) and cost == sol.ObjectiveValue()
    return {"cost": float(cost), "feasible": ok}


def run_pyvrp(d, demand, capacity, time_limit, seed):
    import pyvrp
    from pyvrp.stop import MaxRuntime
    n = len(d)
    dims = demand is not None
    locations = [pyvrp.Location(0, 0) for _ in range(n)]
    depots = [pyvrp.Depot(0)]
    clients = [pyvrp.Client(i, delivery=[int(demand[i])] if dims else []) for i in range(1, n)]
    vehicles = 1 if not dims else fleet(demand, capacity)
    vt = [pyvrp.VehicleType(vehicles, capacity=[capacity] if dims else [])]
    data = pyvrp.ProblemData(locations, clients, depots, vt, [d.astype(np.int64)],
                             [np.zeros((n, n), dtype=np.int64)])
    res = pyvrp.solve(data, stop=MaxRuntime(time_limit), seed=seed, display=False,
                      collect_stats=False)
    # activities name clients by their index among clients: location = index + 1 (one depot)
    routes = [[a.idx + 1 for a in r if a.is_client()] for r in res.best.routes()]
    cost = tsplib.routes_cost(d, routes)
    ok = res.is_feasible() and check_routes(routes, n, demand, capacity)
    return {"cost": float(cost), "feasible": ok}


def gap(res, ref):
    if not res.get("feasible") or math.isnan(res["cost"]):
        return math.nan
    return 100.0 * (res["cost"] - ref) / ref


def fmt(x):
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", required=True, help="path to shopgpu-aco-bench")
    ap.add_argument("--kind", choices=["tsp", "cvrp"], required=True)
    ap.add_argument("--time", type=float, default=10.0, help="seconds per instance and tool")
    ap.add_argument("--data", default=DEFAULT_DATA, help="the shared data directory")
    ap.add_argument("--max-n", type=int, default=1002, help="tsp: largest n")
    ap.add_argument("--set", default="X", help="cvrp: CVRPLIB set")
    ap.add_argument("--max-customers", type=int, default=300, help="cvrp: most customers")
    ap.add_argument("--names", default="", help="comma-separated subset of instance names")
    ap.add_argument("--tools", default="shopgpu,ortools,pyvrp")
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="shopgpu threads (0 = all)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    tools = args.tools.split(",")
    ref_csv, todo = instances(args)
    machine = subprocess.run([args.bench, "--machine"], capture_output=True, text=True).stdout
    print(machine.strip())
    print(f"python: {sys.version.split()[0]}; tools: {', '.join(tools)}; "
          f"{args.time:g} s per instance and tool; seed {args.seed}; shopgpu backend "
          f"{args.backend}, threads {args.threads or 'all'}")
    print(f"instances: {len(todo)} ({args.kind}{', set ' + args.set if args.kind == 'cvrp' else ''})")
    print()
    head = "| instance | n | optimum/BKS |"
    for t in tools:
        head += f" {t} cost | {t} gap % |"
    print(head)
    print("|---|---|---|" + "---|---|" * len(tools))
    gaps = {t: [] for t in tools}
    started = time.time()
    for name, n, ref, path in todo:
        inst = tsplib.read(path)
        d, demand = tsplib.depot_first(inst, tsplib.matrix(inst))
        row = f"| {name} | {n} | {ref:g} |"
        for t in tools:
            if t == "shopgpu":
                res = run_ours(args, ref_csv, path)
            elif t == "ortools":
                res = run_ortools(d, demand, inst["capacity"], args.time, args.seed)
            elif t == "pyvrp":
                res = run_pyvrp(d, demand, inst["capacity"], args.time, args.seed)
            else:
                raise SystemExit("unknown tool " + t)
            g = gap(res, ref)
            gaps[t].append(g)
            row += f" {res['cost']:.0f} | {fmt(g)} |" if res.get("feasible") else " infeasible | — |"
        print(row, flush=True)
    row = f"| **mean of {len(todo)}** | | |"
    for t in tools:
        vals = [g for g in gaps[t] if not math.isnan(g)]
        miss = len(gaps[t]) - len(vals)
        mean = sum(vals) / len(vals) if vals else math.nan
        row += f" | **{fmt(mean)}**{' (' + str(miss) + ' failed)' if miss else ''} |"
    print(row)
    print()
    means = {t: np.nanmean(gaps[t]) if gaps[t] else math.nan for t in tools}
    if "shopgpu" in means:
        for t in tools:
            if t != "shopgpu" and means[t] > 0:
                print(f"- mean gap shopgpu {means['shopgpu']:.3f}% vs {t} {means[t]:.3f}% "
                      f"(ratio {means['shopgpu'] / means[t]:.2f})")
    print(f"- wall time of the whole comparison: {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
