#!/usr/bin/env python3
"""GB/s against matrix size for every strategy of `cargo run --release`, as SVG.

Runs the CLI once per size with `--format json` (standard library only, no
matplotlib) and draws one line per strategy, with the memory roof (the
faster of the streaming- and normal-store triads measured in the same run)
dashed and the L2 / L3 sizes
marked. Prints the numbers as a Markdown table too.

    python3 docs/plot.py                         # measure and draw docs/throughput.svg
    python3 docs/plot.py --sizes 256,1000,2000 --reps 11
    python3 docs/plot.py --save-json /tmp/sweep  # keep each run's JSON ...
    python3 docs/plot.py --from-json /tmp/sweep  # ... and redraw without measuring
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SIZES = [64, 128, 256, 512, 724, 1000, 1448, 2000, 2896, 4000]

# (label, colour, test on a strategy row); the first match per run is plotted.
SERIES = [
    ("unfused + temporaries (NumPy-style)", "#8c564b", lambda s: s["id"] == "unfused"),
    ("quadrants on 4 threads (talk)", "#e377c2", lambda s: s["id"] == "quadrants"),
    ("naive loop", "#7f7f7f", lambda s: s["id"] == "naive"),
    ("reference (scalar)", "#bcbd22", lambda s: s["id"] == "reference"),
    ("fuse2d, 1 thread", "#1f77b4",
     lambda s: s["id"] == "fuse2d" and s["threads"] == 1 and s["isa"] == BEST_ISA[0]),
    ("fuse2d, all threads, auto", "#d62728",
     lambda s: s["id"] == "fuse2d" and s["threads"] > 1 and (s["store"] or "").startswith("auto")),
    ("fuse2d, all threads, normal stores", "#ff7f0e",
     lambda s: s["id"] == "fuse2d" and s["threads"] > 1 and s["store"] == "normal"),
]
BEST_ISA = [None]  # set from the first run's machine section


def run_cli(n, reps):
    """One CLI run at n x n; returns the parsed JSON."""
    cmd = ["cargo", "run", "--release", "-q", "--", "--size", str(n),
           "--reps", str(reps), "--format", "json"]
    out = subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    return json.loads(out)


def load(args):
    """{n: json} for every size, measured or read back."""
    runs = {}
    if args.from_json:
        for name in sorted(os.listdir(args.from_json)):
            if name.startswith("size-") and name.endswith(".json"):
                with open(os.path.join(args.from_json, name)) as f:
                    d = json.load(f)
                runs[d["job"]["rows"]] = d
        return runs
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    for n in args.sizes:
        print(f"measuring {n}x{n} ...", file=sys.stderr)
        runs[n] = run_cli(n, args.reps)
        if args.save_json:
            os.makedirs(args.save_json, exist_ok=True)
            with open(os.path.join(args.save_json, f"size-{n}.json"), "w") as f:
                json.dump(runs[n], f)
    return runs


def series(runs):
    """[(label, colour, dashed, [(n, GB/s)])] for the plot and the table."""
    out = []
    for label, colour, test in SERIES:
        pts = []
        for n, d in sorted(runs.items()):
            row = next((s for s in d["strategies"] if test(s)), None)
            if row:
                pts.append((n, row["gb_per_s"]))
        if pts:
            out.append((label, colour, False, pts))
    for threads, label in [(1, "roof: faster triad, 1 thread"),
                           (None, "roof: faster triad, all threads")]:
        pts = []
        for n, d in sorted(runs.items()):
            want = threads or d["job"]["threads_all"]
            rates = [r["gb_per_s"] for r in d["roof"] if r["threads"] == want]
            if rates:
                pts.append((n, max(rates)))
        if pts and (threads or runs[min(runs)]["job"]["threads_all"] > 1):
            out.append((label, "#000000" if threads else "#555555", True, pts))
    return out


def fmt_bytes(b):
    return f"{b / 2**20:.0f} MiB" if b >= 2**20 else f"{b / 2**10:.0f} KiB"


def svg(runs, lines):
    """The chart as an SVG string."""
    w, h = 900, 560
    left, right, top, bottom = 70, 260, 70, 80
    pw, ph = w - left - right, h - top - bottom
    sizes = sorted(runs)
    xmin, xmax = math.log(sizes[0]), math.log(sizes[-1])
    ymax = max(v for *_, pts in lines for _, v in pts)
    step = 10 if ymax <= 100 else 20
    ytop = step * math.ceil(ymax / step)

    def x(n):
        return left + (math.log(n) - xmin) / max(xmax - xmin, 1e-9) * pw

    def y(v):
        return top + ph - v / ytop * ph

    m = runs[sizes[-1]]["machine"]
    job = runs[sizes[-1]]["job"]
    e = []
    e.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">')
    e.append(f'<rect width="{w}" height="{h}" fill="white"/>')
    e.append(f'<text x="{left}" y="28" font-size="16" font-weight="bold">'
             f'out = (a + b) * 2 + a * b, {job["dtype"]}: GB/s against size '
             f'({job["bytes_per_element"]} bytes/element)</text>')
    e.append(f'<text x="{left}" y="48" fill="#444">{m["arch"]}, {m["isa_detected"]}, '
             f'{m["available_parallelism"]} threads, L2 {fmt_bytes(m["cache_bytes"]["l2"])}, '
             f'L3 {fmt_bytes(m["cache_bytes"]["l3"])}; medians of {job["reps"]} interleaved rounds; '
             f'{time.strftime("%Y-%m-%d")}</text>')
    # Grid and axes.
    for v in range(0, ytop + 1, step):
        e.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + pw}" y2="{y(v):.1f}" stroke="#e5e5e5"/>')
        e.append(f'<text x="{left - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v}</text>')
    for n in sizes:
        ws = n * n * job["bytes_per_element"]
        e.append(f'<line x1="{x(n):.1f}" y1="{top}" x2="{x(n):.1f}" y2="{top + ph}" stroke="#f0f0f0"/>')
        e.append(f'<text x="{x(n):.1f}" y="{top + ph + 16}" text-anchor="middle">{n}</text>')
        e.append(f'<text x="{x(n):.1f}" y="{top + ph + 30}" text-anchor="middle" '
                 f'font-size="9" fill="#777">{fmt_bytes(ws)}</text>')
    e.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    e.append(f'<text x="{left + pw / 2}" y="{h - 22}" text-anchor="middle">'
             f'matrix size n (n x n); below: bytes touched per call (a, b, out)</text>')
    e.append(f'<text transform="translate(20 {top + ph / 2}) rotate(-90)" '
             f'text-anchor="middle">GB/s (median)</text>')
    # Cache sizes, where the working set a + b + out equals them.
    for name in ("l2", "l3"):
        c = m["cache_bytes"][name]
        n = math.sqrt(c / job["bytes_per_element"])
        if sizes[0] <= n <= sizes[-1]:
            e.append(f'<line x1="{x(n):.1f}" y1="{top}" x2="{x(n):.1f}" y2="{top + ph}" '
                     f'stroke="#999" stroke-dasharray="2,3"/>')
            e.append(f'<text x="{x(n) + 4:.1f}" y="{top + 14}" fill="#777">{name.upper()}</text>')
    # The series.
    for label, colour, dashed, pts in lines:
        path = " ".join(f"{x(n):.1f},{y(v):.1f}" for n, v in pts)
        dash = ' stroke-dasharray="6,4"' if dashed else ""
        e.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        if not dashed:
            for n, v in pts:
                e.append(f'<circle cx="{x(n):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
    # Legend.
    lx, ly = left + pw + 16, top + 6
    for i, (label, colour, dashed, _) in enumerate(lines):
        yy = ly + i * 20
        dash = ' stroke-dasharray="6,4"' if dashed else ""
        e.append(f'<line x1="{lx}" y1="{yy}" x2="{lx + 24}" y2="{yy}" stroke="{colour}" '
                 f'stroke-width="2"{dash}/>')
        e.append(f'<text x="{lx + 30}" y="{yy + 4}" font-size="11">{label}</text>')
    e.append("</svg>")
    return "\n".join(e) + "\n"


def table(runs, lines):
    """The plotted numbers as a Markdown table (GB/s)."""
    head = "| n | " + " | ".join(label for label, *_ in lines) + " |"
    rows = [head, "|" + "---|" * (len(lines) + 1)]
    for n in sorted(runs):
        cells = []
        for *_, pts in lines:
            v = dict(pts).get(n)
            cells.append(f"{v:.1f}" if v is not None else "-")
        rows.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")], default=DEFAULT_SIZES)
    p.add_argument("--reps", type=int, default=11)
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "throughput.svg"))
    p.add_argument("--save-json", metavar="DIR")
    p.add_argument("--from-json", metavar="DIR")
    args = p.parse_args()
    runs = load(args)
    if not runs:
        sys.exit("no runs")
    BEST_ISA[0] = runs[min(runs)]["machine"]["isa_detected"]
    lines = series(runs)
    with open(args.out, "w") as f:
        f.write(svg(runs, lines))
    print(table(runs, lines))
    print(f"\nwrote {os.path.relpath(args.out)}", file=sys.stderr)


if __name__ == "__main__":
    main()
