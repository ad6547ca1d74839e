# NumPy and numexpr rows for `fuse2d --python`, run as
#   python3 -c "$(cat python_bench.py)" ROWS COLS REPS DTYPE LAYOUT THREADS OUT_PREFIX
# Prints one line per result: `numpy <median seconds> <threads>`,
# `numexpr <median seconds> <threads>`, or `<name>-missing <reason>`; writes
# each result's raw bytes to OUT_PREFIX.<name>.bin for the bitwise check.
# The inputs are the CLI's own, made the same way:
#   a[i, j] = (i * cols + j) * 1e-3,  b[i, j] = 1 / (1 + i + j)  (in float64, then DTYPE)
import sys
import time

rows, cols, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
dtype, layout, threads, prefix = sys.argv[4], sys.argv[5], int(sys.argv[6]), sys.argv[7]

try:
    import numpy as np
except Exception as e:  # noqa: BLE001 - any import failure means "no numpy"
    print("numpy-missing", type(e).__name__)
    sys.exit(0)

i = np.arange(rows, dtype=np.float64)[:, None]
j = np.arange(cols, dtype=np.float64)[None, :]
a = ((i * cols + j) * 1e-3).astype(dtype)
b = (1.0 / (1.0 + (i + j))).astype(dtype)
if layout == "quadrants":
    # Top-left quadrant views of matrices twice the size, as in the talk.
    big_a = np.zeros((2 * rows, 2 * cols), dtype=dtype)
    big_b = np.zeros((2 * rows, 2 * cols), dtype=dtype)
    big_a[:rows, :cols] = a
    big_b[:rows, :cols] = b
    a, b = big_a[:rows, :cols], big_b[:rows, :cols]
elif layout == "colmajor-b":
    b = np.asfortranarray(b)


def median_seconds(f):
    f()  # warm-up
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    ts.sort()
    m = len(ts) // 2
    return ts[m] if len(ts) % 2 else (ts[m - 1] + ts[m]) / 2


res = {}


def run_numpy():
    res["numpy"] = (a + b) * 2 + a * b


print("numpy", repr(median_seconds(run_numpy)), 1, flush=True)
np.ascontiguousarray(res["numpy"]).tofile(prefix + ".numpy.bin")

try:
    import numexpr as ne
except Exception as e:  # noqa: BLE001
    print("numexpr-missing", type(e).__name__)
    sys.exit(0)

ne.set_num_threads(threads)


def run_numexpr():
    res["numexpr"] = ne.evaluate("(a + b) * 2 + a * b")


print("numexpr", repr(median_seconds(run_numexpr)), threads, flush=True)
np.ascontiguousarray(res["numexpr"]).tofile(prefix + ".numexpr.bin")
