#!/usr/bin/python3
"""W1-W4 and W6 of BENCH.md in PyTorch (Debian's python3-torch), side by side with wengert.

Optional, never run by CI. Install: apt-get install -y python3-torch. Run after `npm run bench`:

    /usr/bin/python3 bench/pytorch.py [bench/results/<file>.json] [--threads 1|2]

Without a file it reads the newest bench/results/*.json. Each workload's value is checked against
the BENCH.md reference (W2: against wengert's value in the JSON) before it is timed; the ratio
printed is torch / wengert (above 1: wengert is faster).
"""
import glob
import json
import math
import os
import sys
import time

# torch.set_num_threads does not reach the OpenBLAS that Debian's PyTorch multiplies matrices
# with: unless told before it loads, OpenBLAS runs its own thread per core, and a "1 thread"
# PyTorch run used both cores (W2 at 133 GFLOP/s, above one core's SGEMM peak).
if "--threads" in sys.argv[1:-1]:
    _threads = sys.argv[sys.argv.index("--threads") + 1]
    os.environ["OPENBLAS_NUM_THREADS"] = _threads
    os.environ["OMP_NUM_THREADS"] = _threads
else:
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402 (after the thread settings)
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
G = np.uint64(0x9E3779B97F4A7C15)


def u(i, seed):
    """u(i, seed) of BENCH.md on numpy uint64 (wrapping), for an array or range of indices i."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) * G + (np.asarray(i, dtype=np.uint64) + np.uint64(1)) * G
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def timeit(fn, budget=4.0, samples=15):
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-9)
    reps = max(1, int(0.01 / one))
    count = max(3, min(samples, int(budget / (one * reps))))
    xs = []
    for _ in range(count):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        xs.append((time.perf_counter() - t0) / reps)
    xs.sort()
    return xs[len(xs) // 2]


def check(name, value, ref, tol):
    if ref is not None and abs(value - ref) > tol * abs(ref):
        print(f"{name}: WRONG ANSWER {value} (reference {ref})")
        return False
    return True


def w1(dtype):
    n, d = 100_000, 100
    X = 2 * u(np.arange(n * d), 1) - 1
    X = X.reshape(n, d)
    wt = 2 * u(np.arange(d), 2) - 1
    z = X @ wt + 0.25
    y = (u(np.arange(n), 3) < 1 / (1 + np.exp(-z))).astype(np.float64)
    w0 = 0.1 * (2 * u(np.arange(d), 4) - 1)
    tX, ty = torch.tensor(X, dtype=dtype), torch.tensor(y, dtype=dtype)
    w = torch.tensor(w0, dtype=dtype, requires_grad=True)
    b = torch.tensor(0.1, dtype=dtype, requires_grad=True)

    def vg():
        w.grad = b.grad = None
        zz = tX @ w + b
        loss = torch.mean(torch.nn.functional.softplus(zz) - ty * zz) + 1e-3 * torch.sum(w * w)
        loss.backward()
        return loss.item()

    return vg, 0.7143434030, 1e-9 if dtype == torch.float64 else 1e-5


def w2(ref_value):
    sizes, batch = [784, 512, 512, 10], 256
    X = torch.tensor(2 * u(np.arange(batch * 784), 10) - 1, dtype=torch.float32).reshape(batch, 784)
    labels = torch.tensor(np.floor(10 * u(np.arange(batch), 11)).astype(np.int64))
    params = []
    for l in range(3):
        fi, fo = sizes[l], sizes[l + 1]
        s = math.sqrt(6 / fi)
        W = torch.tensor(s * (2 * u(np.arange(fi * fo), 12 + 2 * l) - 1), dtype=torch.float32).reshape(fi, fo)
        bb = torch.tensor(0.01 * (2 * u(np.arange(fo), 13 + 2 * l) - 1), dtype=torch.float32)
        params += [W.requires_grad_(), bb.requires_grad_()]

    def vg():
        for p in params:
            p.grad = None
        W1, b1, W2, b2, W3, b3 = params
        h = torch.relu(X @ W1 + b1)
        h = torch.relu(h @ W2 + b2)
        loss = torch.nn.functional.cross_entropy(h @ W3 + b3, labels)
        loss.backward()
        return loss.item()

    return vg, ref_value, 1e-5


def rosen_point(n):
    return torch.tensor([-1.2 if i % 2 == 0 else 1.0 for i in range(n)], dtype=torch.float64)


def w3a():
    n = 1_000_000
    x = rosen_point(n).requires_grad_()

    def vg():
        x.grad = None
        a, b = x[:-1], x[1:]
        f = torch.sum(100 * (b - a * a) ** 2 + (1 - a) ** 2)
        f.backward()
        return f.item()

    return vg, 254099516.0, 1e-8


def w3b(n):
    x = rosen_point(n).requires_grad_()

    def vg():
        x.grad = None
        xs = x.unbind()
        f = None
        for i in range(n - 1):
            d = xs[i + 1] - xs[i] * xs[i]
            e = 1 - xs[i]
            t = d * d * 100 + e * e
            f = t if f is None else f + t
        f.backward()
        return f.item()

    ref = sum(100 * (1 - 1.44) ** 2 + 2.2**2 if i % 2 == 0 else 100 * (-1.2 - 1) ** 2 for i in range(n - 1))
    return vg, ref, 1e-8


def w4():
    p = torch.tensor([1.5, 1.0, 3.0, 1.0], dtype=torch.float64, requires_grad=True)

    def vg():
        p.grad = None
        al, be, ga, de = p.unbind()
        fx = lambda x, y: al * x - be * x * y
        fy = lambda x, y: de * x * y - ga * y
        x = torch.tensor(1.0, dtype=torch.float64)
        y = torch.tensor(1.0, dtype=torch.float64)
        loss, dt = 0, 0.01
        for _ in range(1000):
            k1x, k1y = fx(x, y), fy(x, y)
            x2, y2 = x + dt / 2 * k1x, y + dt / 2 * k1y
            k2x, k2y = fx(x2, y2), fy(x2, y2)
            x3, y3 = x + dt / 2 * k2x, y + dt / 2 * k2y
            k3x, k3y = fx(x3, y3), fy(x3, y3)
            x4, y4 = x + dt * k3x, y + dt * k3y
            k4x, k4y = fx(x4, y4), fy(x4, y4)
            x = x + dt / 6 * (k1x + 2 * k2x + 2 * k3x + k4x)
            y = y + dt / 6 * (k1y + 2 * k2y + 2 * k3y + k4y)
            loss = loss + x * x + y * y
        loss.backward()
        return loss.item()

    return vg, 17154.0428834204, 1e-12


def w6():
    x = torch.tensor(2 * u(np.arange(10), 6) - 1, dtype=torch.float64, requires_grad=True)

    def vg():
        x.grad = None
        f = torch.sum(torch.sin(x) * x + torch.exp(-x * x))
        f.backward()
        return f.item()

    return vg, 10.278091606336, 1e-12


def main():
    argv = sys.argv[1:]
    threads = 1
    if "--threads" in argv:  # the option and its value are not a results file
        i = argv.index("--threads")
        threads = int(argv[i + 1]) if i + 1 < len(argv) else 0
        if threads not in (1, 2):
            sys.exit("--threads must be 1 or 2")
        del argv[i:i + 2]
    args = [a for a in argv if not a.startswith("--")]
    torch.set_num_threads(threads)
    path = args[0] if args else max(glob.glob(os.path.join(HERE, "results", "*.json")), default=None, key=os.path.getmtime)
    if path is None:
        sys.exit("no wengert results: run `npm run bench` first, or pass a results file")
    with open(path) as fh:
        data = json.load(fh)
    ours = {r["workload"]: r for r in data["results"] if "wengert" in r}
    print(f"PyTorch {torch.__version__}, {threads} thread(s); wengert results {os.path.basename(path)}")
    print(f"{'workload':10} {'torch':>12} {'wengert':>12} {'torch/wengert':>14}")
    w3b_n = ours.get("W3b", {}).get("perOp", {}).get("n", 10_000)
    w3b_n_ours = w3b_n
    w3b_n = min(w3b_n, 20_000)  # torch's scalar ops cost ~15 µs each: keep the run short
    cases = [("W1-f64", lambda: w1(torch.float64)), ("W1-f32", lambda: w1(torch.float32)),
             ("W2", lambda: w2(ours.get("W2", {}).get("value"))), ("W3a", w3a), ("W3b", lambda: w3b(w3b_n)), ("W4", w4), ("W6", w6)]
    failed = False
    for name, make in cases:
        vg, ref, tol = make()
        if not check(name, vg(), ref, tol):
            failed = True
            continue
        t = timeit(vg, budget=6.0 if name in ("W3b", "W4") else 4.0)
        mine = ours.get(name)
        w = mine["wengert"]["valueAndGrad"]["median"] if mine else None
        if name == "W3b" and w3b_n != w3b_n_ours:
            w = None  # different n: no ratio
        ratio = f"{t / w:.2f}x" if w else "—"
        extra = f"  (n = {w3b_n}: {t / (8 * (w3b_n - 1)) * 1e9:.0f} ns per forward scalar op)" if name == "W3b" else ""
        print(f"{name:10} {t * 1e3:10.3f} ms {w * 1e3 if w else float('nan'):10.3f} ms {ratio:>14}{extra}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
