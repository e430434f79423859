"""logitdescent benchmark suite: one command, all comparisons side by side, as ratios.

Usage::

    .venv/bin/python benchmarks/run.py            # full run (~25 min on 2 cores), writes benchmarks/RESULTS.md
    .venv/bin/python benchmarks/run.py --quick    # smoke version (< 1 min), writes benchmarks/_scratch/RESULTS-quick.md
    .venv/bin/python benchmarks/run.py --only time   # one section (kernel, time, memory, lecture, multi)
    .venv/bin/python benchmarks/run.py --only time:a,e   # section 2 on some data sets only

Sections
--------
1. kernel   one loss + gradient evaluation vs one ``X @ v`` read (fused, NumPy, naive, scikit-learn)
2. time     time to within 1e-8 of the optimum, logitdescent solvers vs scikit-learn, 5 data sets
3. memory   peak memory of ``fit`` in fresh subprocesses, relative to ``X.nbytes``
4. lecture  the lecture's for-loop vs vectorized demos
5. multi    multinomial and L1 time to optimum

Every section writes its Markdown to ``<results dir>/<section>.md`` (and raw
numbers to ``<section>.json``); ``RESULTS.md`` is the machine description plus
the latest fragment of every section, so ``--only`` re-runs refresh one
section and keep the others (each fragment carries its own date).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from ldbench.common import (  # noqa: E402
    SCRATCH_DIR, Config, gemm_gflops, machine_info, machine_markdown, perf,
)

SECTIONS = ("kernel", "time", "memory", "lecture", "multi")
#: Benchmarks with a command of their own whose latest results RESULTS.md includes.
STANDALONE = (("bench_l1.py", "l1"), ("bench_cv.py", "cv"), ("bench_features.py", "features"), ("bench_dask.py", "dask"))
TITLES = {
    "kernel": "1. Kernel",
    "time": "2. Time to optimum",
    "memory": "3. Memory",
    "lecture": "4. Lecture demo",
    "multi": "5. Multinomial and L1",
}


def _json_default(o):
    import numpy as np

    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def parse_only(only):
    if not only:
        return {s: None for s in SECTIONS}
    wanted = {}
    for item in only.split("+"):
        name, _, sub = item.partition(":")
        if name not in SECTIONS:
            raise SystemExit(f"--only: unknown section {name!r}; choose from {', '.join(SECTIONS)}")
        wanted[name] = set(sub.split(",")) if sub else None
    return wanted


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats: a smoke test (< 1 min)")
    p.add_argument("--only", default=None,
                   help="run these sections only: NAME[:SUBSET][+NAME...], NAME in " + ", ".join(SECTIONS)
                        + "; SUBSET for 'time' is data set letters (a,b,c,d,e), for 'memory' data set keys")
    p.add_argument("--cap", type=float, default=None, help="seconds per fit before '> cap' (default 40, quick 4)")
    p.add_argument("--wait-quiet", type=float, default=None,
                   help="total seconds to wait, before each measured problem, for other busy processes to end "
                        "(default 1200 for a full run, 0 with --quick)")
    p.add_argument("--results-dir", default=None, help="where the section fragments go")
    p.add_argument("--output", default=None, help="the combined Markdown file")
    args = p.parse_args(argv)

    cfg = Config.make(args.quick, args.cap)
    from ldbench import common

    common.GUARD.budget_s = args.wait_quiet if args.wait_quiet is not None else (0.0 if cfg.quick else 1200.0)
    common.GUARD.interval = 0.2 if cfg.quick else 1.0
    wanted = parse_only(args.only)
    results_dir = Path(args.results_dir) if args.results_dir else (
        SCRATCH_DIR / "quick" if cfg.quick else HERE / "results")
    output = Path(args.output) if args.output else (
        SCRATCH_DIR / "RESULTS-quick.md" if cfg.quick else HERE / "RESULTS.md")
    results_dir.mkdir(parents=True, exist_ok=True)
    SCRATCH_DIR.mkdir(parents=True, exist_ok=True)

    t_start = perf()
    run_git = common.git_state()
    others = [f"{pid} {frac:.0%} {cmd}" for pid, frac, cmd in common.busy_others(common.GUARD.interval)]
    info = machine_info()
    gflops = gemm_gflops()
    info["GEMM rate (measured)"] = f"{gflops:.1f} GFLOP/s float64 (1000 x 1000 matmul, median of 5)"
    print("Machine:")
    for k, v in info.items():
        if k != "blas":
            print(f"  {k}: {v}")
    for row in info["blas"]:
        print(f"  threadpoolctl: {row}")
    if others:
        print("  WARNING: other busy processes now (timings will be noisy):\n    " + "\n    ".join(others))

    from ldbench import s1_kernel, s2_time_to_optimum, s3_memory, s4_lecture, s5_multi_l1

    runners = {
        "kernel": lambda sub: s1_kernel.run(cfg),
        "time": lambda sub: s2_time_to_optimum.run(cfg, gflops, only=sub),
        "memory": lambda sub: s3_memory.run(cfg, only=sub),
        "lecture": lambda sub: s4_lecture.run(cfg),
        "multi": lambda sub: s5_multi_l1.run(cfg, gflops, only=sub),
    }
    section_times = {}
    for name in SECTIONS:
        if name not in wanted:
            continue
        guarded = name in ("kernel", "memory", "lecture")  # sections 2 and 5 guard each problem
        pre = common.GUARD.wait(f"section {name}") if guarded else ""
        # In-process sections run the logitdescent imported at the start of the run; the memory section's
        # subprocesses import the source tree as it is when they start.
        head, dirty = common.git_state() if name == "memory" else run_git
        t0 = perf()
        rep, raw = runners[name](wanted[name])
        dt = perf() - t0
        post = common.GUARD.check(f"section {name}") if guarded else ""
        if pre or post:
            rep.text("**Noise warning**: " + "; ".join(n for n in (pre, post) if n)
                     + " (timings of this section may be inflated).\n")
        section_times[name] = dt
        mode = "quick" if cfg.quick else "full"
        where = f"logitdescent git {head}" + (f" + {dirty} uncommitted change(s) under src/" if dirty else "")
        rep.stamp_items(f"measured {info['date'][:16]} on {where} ({mode} mode)")
        items_path = results_dir / f"{name}.items.json"
        if wanted[name] and items_path.exists():  # a subset run: keep the stored items it did not redo
            rep.merge(json.loads(items_path.read_text()))
        items_path.write_text(json.dumps(rep.items, indent=1))
        stamp = (f"\n_Section last run {info['date']} on {where} ({mode} mode"
                 + (f", subset {sorted(wanted[name])}" if wanted[name] else "")
                 + f"), {dt:.0f} s; load average at start {info['load average']}._\n")
        (results_dir / f"{name}.md").write_text(rep.markdown() + stamp)
        suffix = "" if not wanted[name] else "." + "_".join(sorted(wanted[name]))
        (results_dir / f"{name}{suffix}.json").write_text(json.dumps(
            {"machine": info, "mode": mode, "seconds": dt, "subset": sorted(wanted[name] or []), "results": raw},
            indent=1, default=_json_default))
        print(f"\n[{name}: {dt:.0f} s]", flush=True)

    total = perf() - t_start
    history_path = results_dir / "runs.json"
    history = json.loads(history_path.read_text()) if history_path.exists() else []
    history.append({"date": info["date"], "argv": argv if argv is not None else sys.argv[1:],
                    "mode": "quick" if cfg.quick else "full", "only": args.only, "total_s": round(total),
                    "sections_s": {k: round(v) for k, v in section_times.items()},
                    "waited_s": round(common.GUARD.waited_s), "noise_warnings": len(common.GUARD.events)})
    history_path.write_text(json.dumps(history, indent=1))
    last_full = next((h for h in reversed(history) if not h["only"]), None)
    info_md = machine_markdown(info)
    parts = [
        "# logitdescent benchmarks\n",
        "Generated by `make bench` (`.venv/bin/python benchmarks/run.py`"
        + (" --quick" if cfg.quick else "") + "). All comparisons are run side by side in one process "
        "and reported as ratios; the machine is shared, so timings are medians of interleaved rounds "
        "where the section says so. Machine of the latest run:\n",
        info_md + "\n",
        (f"Last complete run (all sections): {last_full['date']}, **{last_full['total_s']} s in all** ("
         + ", ".join(f"{k} {v} s" for k, v in last_full["sections_s"].items()) + "). " if last_full else "")
        + f"Latest invocation: `{' '.join(['benchmarks/run.py'] + (argv if argv is not None else sys.argv[1:]))}`, "
        f"{total:.0f} s in all ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in section_times.items()) + ")."
        + (" Other busy processes at the start: " + "; ".join(others) + "." if others else "")
        + (f" Waited {common.GUARD.waited_s:.0f} s for other processes to finish." if common.GUARD.waited_s else "")
        + (f" Noise warnings during the run: {len(common.GUARD.events)} (see the sections)."
           if common.GUARD.events else " No other busy process was seen at the sampled points.") + "\n",
    ]
    for name in SECTIONS:
        frag = results_dir / f"{name}.md"
        if frag.exists():
            parts.append(frag.read_text())
    standalone = [(script, results_dir / f"{stem}.md") for script, stem in STANDALONE]
    parts.append("## Benchmarks run on their own\n\nThese take their own command (they start clusters or run "
                 "peers that need long caps); their latest tables follow, each with its machine and date.\n")
    parts += [f"### `benchmarks/{script}`\n\n" + re.sub(r"(?m)^#", "###", path.read_text().split("\n", 1)[1])
              for script, path in standalone if path.exists()]
    output.write_text("\n".join(parts))
    print(f"\nTotal {total:.0f} s. Wrote {output} (fragments in {results_dir}).")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")
    sys.exit(main())
