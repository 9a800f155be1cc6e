#!/usr/bin/env python3
"""Series by series: shopgpu's automatic ARIMA against R's auto.arima on one M3 category.

  build/bench/shopgpu-arima-bench accuracy --only Yearly --models ours.csv
  Rscript bench/arima/r_auto_arima.R ../shared/data/timeseries/m3/M3_yearly.csv 1 1 r.csv
  python3 bench/arima/compare_r.py r.csv ours.csv [--category 'M3 Yearly'] [--worst N]

Prints how many series get the same model (orders and constant), where d or D differ, whether
the differing choices have a lower or higher AICc on our side, the MASE of both, and the series
whose MASE differs most.
"""
import argparse
import csv
import signal
from collections import Counter

KEYS = ["p", "d", "q", "P", "D", "Q", "mean", "drift"]


def load(path, category=None):
    rows = {}
    for r in csv.DictReader(open(path)):
        if category and r["category"] != category:
            continue
        rows[int(r["series"])] = r
    return rows


def model(r):
    return tuple(int(float(r[k])) for k in KEYS)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("r_csv")
    ap.add_argument("ours_csv")
    ap.add_argument("--category", help="keep these rows of ours.csv (its category column), "
                    "when it holds several categories")
    ap.add_argument("--worst", type=int, default=10)
    a = ap.parse_args()
    r, o = load(a.r_csv), load(a.ours_csv, a.category)
    common = sorted(set(r) & set(o))
    same = [i for i in common if model(r[i]) == model(o[i])]
    diff = [i for i in common if model(r[i]) != model(o[i])]
    dd = Counter((model(r[i])[1], model(o[i])[1]) for i in diff if model(r[i])[1] != model(o[i])[1])
    DD = Counter((model(r[i])[4], model(o[i])[4]) for i in diff if model(r[i])[4] != model(o[i])[4])
    lower = sum(1 for i in diff if float(o[i]["aicc"]) < float(r[i]["aicc"]) - 1e-6)
    mase = lambda rows: sum(float(rows[i]["mase"]) for i in common) / len(common)
    print(f"series: {len(common)}; same model: {len(same)}; different: {len(diff)}")
    print(f"  d differs (R, ours): {dict(dd)}; D differs: {dict(DD)}")
    print(f"  of the different ones, our AICc is lower for {lower}, higher or equal for "
          f"{len(diff) - lower} (the AICc of different d or D are not comparable)")
    print(f"MASE: R {mase(r):.4f}, ours {mase(o):.4f}")
    worst = sorted(common, key=lambda i: -abs(float(o[i]["mase"]) - float(r[i]["mase"])))
    print("\n| series | R model | our model | R AICc | our AICc | R MASE | our MASE |")
    print("|---|---|---|---|---|---|---|")
    for i in worst[: a.worst]:
        print(f"| {i} | {model(r[i])} | {model(o[i])} | {float(r[i]['aicc']):.3f} | "
              f"{float(o[i]['aicc']):.3f} | {float(r[i]['mase']):.3f} | {float(o[i]['mase']):.3f} |")


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    main()
