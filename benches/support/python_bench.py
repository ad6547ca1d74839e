# NumPy, numexpr and the talk's Cython prange kernel, for `fuse2d --python`
# and `cargo bench --bench versus` (through benches/support/python.rs), run as
#   python3 -c "$(cat python_bench.py)" ROWS COLS REPS DTYPE LAYOUT THREADS OUT_PREFIX
# Prints one line per result: `numpy <median seconds> 1`, `numexpr <median
# seconds> <threads>` and `cython-prange <median seconds> <threads>` (the
# talk's Cython + OpenMP kernel, built at run time when Cython and a C
# compiler with OpenMP are there), the last two on 1 and on THREADS threads,
# or `<name>-missing <reason>`; writes each result's raw bytes to
# OUT_PREFIX.numpy.bin, OUT_PREFIX.numexpr-t<threads>.bin and
# OUT_PREFIX.cython-prange-t<threads>.bin for the bitwise check.
# The inputs are the Rust side's own, made the same way:
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



def bench_numexpr():
    try:
        import numexpr as ne
    except Exception as e:  # noqa: BLE001
        print("numexpr-missing", type(e).__name__)
        return

    def run_numexpr():
        res["numexpr"] = ne.evaluate("(a + b) * 2 + a * b")

    for t in sorted({1, threads}):
        ne.set_num_threads(t)
        print("numexpr", repr(median_seconds(run_numexpr)), t, flush=True)
        np.ascontiguousarray(res["numexpr"]).tofile(prefix + ".numexpr-t%d.bin" % t)


# The talk's "OpenMP with Cython - Parallel Range" kernel. Changes from the
# slides, and why: typed memoryviews instead of `object[double, ndim=2]`
# (current Cython does not index object buffers without the GIL); `range`
# for Python 2's `xrange`; `Py_ssize_t` indices; the output is passed in, as
# the talk's `output=` argument allows, so its allocation is not timed.
# `-ffp-contract=off`: GCC contracts `a * b + c` into an FMA by default
# where the target has one, which would round differently from NumPy.
CYTHON_PRANGE = """
# distutils: extra_compile_args = -O3 -fopenmp -ffp-contract=off
# distutils: extra_link_args = -fopenmp
import cython
from cython cimport parallel

@cython.boundscheck(False)
@cython.wraparound(False)
def func(double[:, :] buf1 not None, double[:, :] buf2 not None,
         double[:, :] output not None, int num_threads=2):
    cdef Py_ssize_t x, y, inner, outer
    if buf1.shape[0] != buf2.shape[0] or buf1.shape[1] != buf2.shape[1]:
        raise TypeError('Arrays have different shapes')
    outer = buf1.shape[0]
    inner = buf1.shape[1]
    with nogil:
        for x in parallel.prange(outer, schedule='static', num_threads=num_threads):
            for y in range(inner):
                output[x, y] = ((buf1[x, y] + buf2[x, y]) * 2 + buf1[x, y] * buf2[x, y])
    return output
"""

BUILD = """
from setuptools import setup
from Cython.Build import cythonize
setup(ext_modules=cythonize("talk_prange.pyx", quiet=True),
      script_args=["build_ext", "--inplace"])
"""


def bench_cython():
    """Builds the talk's prange kernel in a temporary directory and times it
    on 1 thread and on THREADS threads; any failure skips its rows."""
    import os
    import subprocess
    import tempfile

    if dtype != "float64":
        print("cython-prange-missing the talk's kernel is float64 only")
        return
    try:
        import Cython  # noqa: F401
    except Exception as e:  # noqa: BLE001
        print("cython-prange-missing Cython is not importable (" + type(e).__name__ + ")")
        return
    tmp = tempfile.mkdtemp(prefix="fuse2d-cython-")
    with open(os.path.join(tmp, "talk_prange.pyx"), "w") as f:
        f.write(CYTHON_PRANGE)
    with open(os.path.join(tmp, "build.log"), "w") as log:
        built = subprocess.run([sys.executable, "-c", BUILD], cwd=tmp, stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if built.returncode != 0:
        print("cython-prange-missing the build failed, see " + os.path.join(tmp, "build.log"))
        return
    sys.path.insert(0, tmp)
    try:
        import talk_prange
    except Exception as e:  # noqa: BLE001
        print("cython-prange-missing the built module does not import (" + type(e).__name__ + ")")
        return
    out = np.empty_like(a, order="C")
    for t in sorted({1, threads}):
        secs = median_seconds(lambda: talk_prange.func(a, b, out, t))
        print("cython-prange", repr(secs), t, flush=True)
        out.tofile(prefix + ".cython-prange-t%d.bin" % t)
    # The module stays loaded; its files can go (a failed build keeps its log).
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)


bench_numexpr()
bench_cython()
