"""Minimal TSPLIB / CVRPLIB reader for the comparison driver: coordinates or explicit weights,
demands, depot, capacity, and the integer distance matrix under the instance's own TSPLIB
convention (EUC_2D nint, CEIL_2D, ATT, GEO), so every tool is scored in the same metric."""

import numpy as np


def _nint(x):
    return np.floor(x + 0.5)


def _geo_rad(v):
    deg = np.trunc(v)
    return 3.141592 * (deg + 5.0 * (v - deg) / 3.0) / 180.0


def read(path):
    """Returns a dict: name, type, n, metric, x, y (or None), matrix (explicit or None),
    demand (or None), capacity, depot (index, moved to 0)."""
    with open(path) as f:
        tokens_by_line = [line.replace(":", " : ", 1).split() for line in f]
    inst = {"name": "", "type": "", "n": 0, "metric": "", "format": "", "capacity": 0,
            "x": None, "y": None, "matrix": None, "demand": None, "depot": 0}
    toks = []
    for line_toks in tokens_by_line:
        toks.extend(line_toks + ["\n"])
    pos = 0

    def numbers(count):
        nonlocal pos
        out = []
        while len(out) < count:
            t = toks[pos]
            pos += 1
            if t != "\n":
                out.append(float(t))
        return out

    while pos < len(toks):
        t = toks[pos]
        pos += 1
        if t == "\n":
            continue
        if t.endswith("_SECTION") or t == "EOF":
            n = inst["n"]
            if t == "NODE_COORD_SECTION":
                v = np.array(numbers(3 * n)).reshape(n, 3)
                inst["x"], inst["y"] = v[:, 1].copy(), v[:, 2].copy()
            elif t == "EDGE_WEIGHT_SECTION":
                inst["matrix"] = _weights(inst["format"], n, numbers)
            elif t == "DEMAND_SECTION":
                v = np.array(numbers(2 * n)).reshape(n, 2)
                inst["demand"] = v[:, 1].astype(np.int64)
            elif t == "DEPOT_SECTION":
                d = numbers(1)[0]
                inst["depot"] = int(d) - 1
                while numbers(1)[0] != -1:
                    pass
            elif t == "DISPLAY_DATA_SECTION":
                numbers(3 * n)
            elif t == "EOF":
                break
            continue
        # header: KEY : value
        rest = []
        while pos < len(toks) and toks[pos] != "\n":
            rest.append(toks[pos])
            pos += 1
        if rest and rest[0] == ":":
            rest = rest[1:]
        value = rest[0] if rest else ""
        if t == "NAME":
            inst["name"] = value
        elif t == "TYPE":
            inst["type"] = value
        elif t == "DIMENSION":
            inst["n"] = int(value)
        elif t == "EDGE_WEIGHT_TYPE":
            inst["metric"] = value
        elif t == "EDGE_WEIGHT_FORMAT":
            inst["format"] = value
        elif t == "CAPACITY":
            inst["capacity"] = int(float(value))
    return inst


def _weights(fmt, n, numbers):
    m = np.zeros((n, n))
    if fmt == "FULL_MATRIX":
        return np.array(numbers(n * n)).reshape(n, n)
    for i in range(n):
        if fmt in ("UPPER_ROW", "LOWER_COL"):
            cols = range(i + 1, n)
        elif fmt in ("LOWER_ROW", "UPPER_COL"):
            cols = range(0, i)
        elif fmt in ("UPPER_DIAG_ROW", "LOWER_DIAG_COL"):
            cols = range(i, n)
        elif fmt in ("LOWER_DIAG_ROW", "UPPER_DIAG_COL"):
            cols = range(0, i + 1)
        else:
            raise ValueError("unsupported EDGE_WEIGHT_FORMAT " + fmt)
        vals = numbers(len(cols))
        for j, v in zip(cols, vals):
            m[i, j] = m[j, i] = v
    return m


def matrix(inst):
    """Integer distance matrix (numpy int64) in the instance's convention."""
    if inst["metric"] == "EXPLICIT":
        return inst["matrix"].astype(np.int64)
    x, y = inst["x"], inst["y"]
    if inst["metric"] == "GEO":
        lat, lon = _geo_rad(x), _geo_rad(y)
        q1 = np.cos(lon[:, None] - lon[None, :])
        q2 = np.cos(lat[:, None] - lat[None, :])
        q3 = np.cos(lat[:, None] + lat[None, :])
        a = np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0)
        d = np.floor(6378.388 * np.arccos(a) + 1.0)
        np.fill_diagonal(d, 0)
        return d.astype(np.int64)
    dx = x[:, None] - x[None, :]
    dy = y[:, None] - y[None, :]
    if inst["metric"] == "ATT":
        r = np.sqrt((dx * dx + dy * dy) / 10.0)
        t = _nint(r)
        return np.where(t < r, t + 1, t).astype(np.int64)
    e = np.sqrt(dx * dx + dy * dy)
    if inst["metric"] == "CEIL_2D":
        return np.ceil(e).astype(np.int64)
    if inst["metric"] == "EUC_2D":
        return _nint(e).astype(np.int64)
    raise ValueError("unsupported EDGE_WEIGHT_TYPE " + inst["metric"])


def depot_first(inst, d):
    """Reorders d (and demands) so the depot is node 0."""
    k = inst["depot"]
    if k == 0:
        return d, inst["demand"]
    order = [k] + [i for i in range(inst["n"]) if i != k]
    dem = inst["demand"][order] if inst["demand"] is not None else None
    return d[np.ix_(order, order)], dem


def tour_cost(d, tour):
    return int(sum(d[tour[i], tour[(i + 1) % len(tour)]] for i in range(len(tour))))


def routes_cost(d, routes):
    total = 0
    for r in routes:
        seq = [0] + list(r) + [0]
        total += sum(int(d[seq[i], seq[i + 1]]) for i in range(len(seq) - 1))
    return total

