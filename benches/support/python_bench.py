# NumPy, numexpr and the talk's Cython prange kernel, for `fuse2d --python`
# and `cargo bench --bench versus` (through benches/support/python.rs), run as
#   python3 -c "$(cat python_bench.py)" ROWS COLS DTYPE UNTIMED
# It serves one request per line on stdin, one reply line each on stdout, so
# the Rust side can time these contenders in its own interleaved rounds:
#   time NAME LAYOUT THREADS        -> "ok SECONDS": NAME runs UNTIMED + 1
#                                      times in a row, the last one timed
#   save NAME LAYOUT THREADS PATH   -> "ok": NAME runs once and its result's
#                                      raw bytes (row-major, native byte
#                                      order) go to PATH
#   shape ROWS COLS                 -> "ok": later requests use inputs of
#                                      that shape (the Cython kernel, once
#                                      built, serves every shape)
# NAME is numpy (one thread), numexpr or cython-prange (the talk's Cython +
# OpenMP kernel, built on first use when Cython and a C compiler with OpenMP
# are there); LAYOUT is contiguous, quadrants or colmajor-b. A request that
# cannot be served replies "missing REASON". The first line out is "ready",
# or "missing REASON" when NumPy does not import (the script then exits).
# The inputs are the Rust side's own, made the same way:
#   a[i, j] = (i * cols + j) * 1e-3,  b[i, j] = 1 / (1 + i + j)  (in float64, then DTYPE)
import sys
import time

rows, cols, dtype, untimed = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])

try:
    import numpy as np
except Exception as e:  # noqa: BLE001 - any import failure means "no numpy"
    print("missing numpy is not importable by python3 (" + type(e).__name__ + ")", flush=True)
    sys.exit(0)


class Missing(Exception):
    """A request this process cannot serve; its message is the reason."""


_inputs = {}


def inputs(layout):
    """`a`, `b` and an output array in LAYOUT, made on first use."""
    if layout not in _inputs:
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
        elif layout != "contiguous":
            raise Missing("unknown layout " + layout)
        _inputs[layout] = (a, b, np.empty((rows, cols), dtype=dtype))
    return _inputs[layout]


def numpy_kernel(threads):
    if threads != 1:
        raise Missing("NumPy's expression runs on one thread")
    return lambda a, b, out: (a + b) * 2 + a * b


def numexpr_kernel(threads):
    try:
        import numexpr as ne
    except Exception as e:  # noqa: BLE001
        raise Missing("numexpr is not importable by python3 (" + type(e).__name__ + ")")
    # Only when it changes: numexpr may rebuild its thread pool here.
    if ne.get_num_threads() != threads:
        ne.set_num_threads(threads)
    return lambda a, b, out: ne.evaluate("(a + b) * 2 + a * b")


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


def build_cython():
    """Builds the talk's prange kernel in a temporary directory: the module,
    or the Missing that says why not (a failed build keeps its log)."""
    import os
    import shutil
    import subprocess
    import tempfile

    if dtype != "float64":
        return Missing("the talk's kernel is float64 only")
    try:
        import Cython  # noqa: F401
    except Exception as e:  # noqa: BLE001
        return Missing("Cython is not importable by python3 (" + type(e).__name__ + ")")
    tmp = tempfile.mkdtemp(prefix="fuse2d-cython-")
    with open(os.path.join(tmp, "talk_prange.pyx"), "w") as f:
        f.write(CYTHON_PRANGE)
    with open(os.path.join(tmp, "build.log"), "w") as log:
        built = subprocess.run([sys.executable, "-c", BUILD], cwd=tmp, stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if built.returncode != 0:
        return Missing("the build failed, see " + os.path.join(tmp, "build.log"))
    sys.path.insert(0, tmp)
    try:
        import talk_prange
    except Exception as e:  # noqa: BLE001
        return Missing("the built module does not import (" + type(e).__name__ + ")")
    # The module stays loaded; its files can go.
    shutil.rmtree(tmp, ignore_errors=True)
    return talk_prange


_cython = []


def cython_kernel(threads):
    if not _cython:
        _cython.append(build_cython())
    module = _cython[0]
    if isinstance(module, Missing):
        raise module
    return lambda a, b, out: module.func(a, b, out, threads)


KERNELS = {"numpy": numpy_kernel, "numexpr": numexpr_kernel, "cython-prange": cython_kernel}


def reshape(words):
    """`shape ROWS COLS`: inputs of that shape from now on."""
    global rows, cols
    try:
        new = int(words[1]), int(words[2])
    except ValueError:
        raise Missing("not a shape: " + " ".join(words[1:]))
    rows, cols = new
    _inputs.clear()
    return "ok"


def serve(words):
    """The reply to one request, split into words."""
    if words[:1] == ["shape"] and len(words) == 3:
        return reshape(words)
    if tuple(words[:1]) + (len(words),) not in (("time", 4), ("save", 5)):
        raise Missing("unknown request " + " ".join(words))
    if words[1] not in KERNELS:
        raise Missing("unknown contender " + words[1])
    try:
        threads = int(words[3])
    except ValueError:
        raise Missing("not a thread count: " + words[3])
    a, b, out = inputs(words[2])
    kernel = KERNELS[words[1]](threads)
    if words[0] == "save":
        np.ascontiguousarray(kernel(a, b, out)).tofile(words[4])
        return "ok"
    for _ in range(untimed):
        kernel(a, b, out)
    t = time.perf_counter()
    kernel(a, b, out)
    return "ok " + repr(time.perf_counter() - t)


print("ready", flush=True)
for line in sys.stdin:
    try:
        reply = serve(line.split())
    except Missing as e:
        reply = "missing " + str(e)
    print(reply, flush=True)
