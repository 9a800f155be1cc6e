#!/usr/bin/env python3
"""M3 monthly (1,428 series, h = 18): fit + forecast time of shopgpu's automatic ARIMA next to
statsforecast's AutoARIMA over the same search space (auto.arima defaults: stepwise, p, q <= 5,
P, Q <= 2, d <= 2, D <= 1, AICc, season 12), in one run on this machine. Prints markdown.

    bench/.venv/bin/python bench/arima/speed.py --bench build-arima/bench/shopgpu-arima-bench \
        [--data ../shared/data/timeseries] [--limit N]

shopgpu runs with both optimizers (bfgs, the default, and lm), on 1 and 2 threads.
"""
import argparse
import csv
import os
import re
import subprocess
import time

import numpy as np


def load_m3_monthly(path, limit):
    train, test = [], []
    with open(path) as f:
        rows = csv.reader(f)
        next(rows)
        for r in rows:
            n, nf = int(r[1]), int(r[2])
            v = np.array([float(z) for z in r[6:6 + n]])
            train.append(v[:n - nf])
            test.append(v[n - nf:n - nf + 18])
            if limit and len(train) >= limit:
                break
    return train, test


def mase_smape(train, test, fc, m=12):
    mase, smape = [], []
    for y, t, f in zip(train, test, fc):
        scale = np.mean(np.abs(y[m:] - y[:-m]))
        mase.append(np.mean(np.abs(t - f)) / scale)
        smape.append(np.mean(200 * np.abs(t - f) / (np.abs(t) + np.abs(f))))
    return float(np.mean(mase)), float(np.mean(smape))


def run_shopgpu(bench, data, threads, limit, optimizer):
    cmd = [bench, "speed", "--data", data, "--threads", str(threads), "--optimizer", optimizer]
    if limit:
        cmd += ["--limit", str(limit)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    m = re.search(r"fit\+forecast ([0-9.]+) s .* MASE ([0-9.]+), sMAPE ([0-9.]+)", out)
    return float(m.group(1)), float(m.group(2)), float(m.group(3)), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--data", default="../shared/data/timeseries")
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    from statsforecast.models import AutoARIMA  # noqa: E402 (after NUMBA_NUM_THREADS)
    import statsforecast

    train, test = load_m3_monthly(os.path.join(a.data, "m3/M3_monthly.csv"), a.limit)
    AutoARIMA(season_length=12).fit(train[0]).predict(18)  # numba compilation, not timed
    t0 = time.perf_counter()
    fc = []
    for y in train:
        fc.append(AutoARIMA(season_length=12).fit(y).predict(18, level=[80, 95])["mean"])
    sf_sec = time.perf_counter() - t0
    sf_mase, sf_smape = mase_smape(train, test, fc)

    rows = []
    for optimizer in ("bfgs", "lm"):
        for threads in (1, 2):
            sec, mase, smape, out = run_shopgpu(a.bench, a.data, threads, a.limit, optimizer)
            rows.append((optimizer, threads, sec, mase, smape))
    print(out.split("optimizer:")[0].strip())
    print(f"statsforecast {statsforecast.__version__}, numpy {np.__version__}")
    print()
    print(f"M3 monthly, {len(train)} series, h = 18, fit + forecast (80/95 % intervals)")
    print()
    print("| tool | optimizer | threads | seconds | ms / series | MASE | sMAPE | speed-up vs statsforecast | target >= 20x |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| statsforecast AutoARIMA | | 1 | {sf_sec:.1f} | {1e3 * sf_sec / len(train):.1f} | {sf_mase:.3f} | {sf_smape:.2f} | 1.0x | |")
    for optimizer, threads, sec, mase, smape in rows:
        r = sf_sec / sec
        print(f"| shopgpu arima (cpu) | {optimizer} | {threads} | {sec:.1f} | {1e3 * sec / len(train):.1f} | {mase:.3f} | {smape:.2f} | {r:.1f}x | {'yes' if r >= 20 else 'no'} |")


if __name__ == "__main__":
    main()
