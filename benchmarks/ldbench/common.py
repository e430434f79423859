"""Shared utilities: timing, formatting, machine description."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BENCH_DIR.parent
SCRATCH_DIR = BENCH_DIR / "_scratch"

perf = time.perf_counter


@dataclass
class Config:
    """Sizes, caps and repeat counts of one run (full or ``--quick``)."""

    quick: bool = False
    cap: float = 30.0  # seconds per fit before a solver is reported as "> cap"
    seed: int = 0
    # section 1
    kernel_shapes: tuple = ((1_000_000, 100), (100_000, 1000), (10_000, 100))
    kernel_repeats: int = 9
    softmax_shapes: tuple = ((1_000_000, 100, 3), (1_000_000, 100, 10))
    # section 2
    big_repeats: int = 1  # repeats of every fit on the large data sets (phase 1)
    small_repeats: int = 7  # ... on breast cancer
    headline_rounds_big: int = 3  # interleaved re-timing rounds of the headline pair
    headline_rounds_small: int = 21
    shape_a: tuple = (1_000_000, 100)
    shape_b: tuple = (100_000, 100)
    shape_c: tuple = (100_000, 1000)
    shape_d: tuple = (100_000, 10_000)
    density_d: float = 0.01
    cond_b: float = 1e3
    f32_datasets: tuple = ("a", "b", "c", "e")
    sgd_epochs: int = 10
    sk_sgd_max_epochs: int = 8
    # section 3
    mem_datasets: tuple = ("a64", "a32", "c64", "d64")
    mem_quick: bool = False
    # section 5
    shape_multi: tuple = (200_000, 100, 10)  # the kernel-contract issue's multinomial goal
    shape_l1: tuple = (100_000, 10_000)
    density_l1: float = 0.01
    l1_fraction: float = 0.05  # L1 strength = this fraction of lambda_max (the all-zero threshold)
    log: list = field(default_factory=list)

    @classmethod
    def make(cls, quick, cap=None):
        if not quick:
            cfg = cls()
        else:
            cfg = cls(
                quick=True, cap=0.5, f32_datasets=("a", "e"),
                kernel_shapes=((100_000, 100), (10_000, 1000), (10_000, 100)), kernel_repeats=3,
                softmax_shapes=((100_000, 100, 10),),
                big_repeats=1, small_repeats=1, headline_rounds_big=1, headline_rounds_small=1,
                shape_a=(20_000, 20), shape_b=(10_000, 20), shape_c=(3_000, 200),
                shape_d=(5_000, 1_000), sgd_epochs=3, sk_sgd_max_epochs=2,
                mem_datasets=("a64",), mem_quick=True, shape_multi=(10_000, 20, 5), shape_l1=(3_000, 1_000),
            )
        if cap is not None:
            cfg.cap = float(cap)
        return cfg


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_time(t):
    """Seconds, formatted with a unit that keeps 3 significant digits."""
    if t is None:
        return "-"
    if isinstance(t, str):
        return t
    if t < 1e-3:
        return f"{t * 1e6:.1f} us"
    if t < 1.0:
        return f"{t * 1e3:.1f} ms"
    return f"{t:.2f} s"


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def fmt_gap(g):
    if g is None:
        return "-"
    if g <= 0:
        return "<= 0"
    return f"{g:.1e}"


def fmt_bytes(b):
    if b is None:
        return "-"
    sign = "-" if b < 0 else ""
    b = abs(b)
    for unit, k in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if b >= k:
            return f"{sign}{b / k:.2f} {unit}" if unit == "GB" else f"{sign}{b / k:.1f} {unit}"
    return f"{sign}{b:.0f} B"


def md_table(headers, rows, align=None):
    """A Markdown table; ``align`` is a string of 'l'/'r' per column (default: l then r)."""
    if align is None:
        align = "l" + "r" * (len(headers) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(map(str, headers)) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def goal_mark(value, limit):
    if value is None:
        return "n/a"
    return "PASS" if value <= limit else "FAIL"


def timeit_median(func, repeats=5, min_sample_s=0.02):
    """Median seconds per call of ``func()`` (batches of calls for fast functions)."""
    func()
    t0 = perf()
    func()
    dt = perf() - t0
    batch = max(1, int(np.ceil(min_sample_s / max(dt, 1e-7))))
    samples = []
    for _ in range(repeats):
        t0 = perf()
        for _ in range(batch):
            func()
        samples.append((perf() - t0) / batch)
    return statistics.median(samples)


def gemm_gflops():
    """Measured double-precision GEMM rate (for the Newton cost estimates)."""
    a = np.random.default_rng(0).standard_normal((1000, 1000))
    t = timeit_median(lambda: a @ a, repeats=5)
    return 2e9 / t / 1e9


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def cpu_model():
    for line in _read("/proc/cpuinfo").splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def total_ram_bytes():
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None


def git_state():
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=REPO_DIR, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except Exception:
            return ""
    head = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--", "src")
    return head, len([line for line in dirty.splitlines() if line.strip()])


def machine_info():
    """Everything the results depend on, as a dict of strings (and a list of BLAS rows)."""
    import numba
    import scipy
    import sklearn
    import threadpoolctl

    import logitdescent
    from logitdescent.kernel import warm_up

    ct0 = perf()
    compile_times = warm_up()
    warm_up_s = perf() - ct0
    try:
        layer = numba.threading_layer()
    except Exception:
        layer = f"(not initialized; NUMBA_THREADING_LAYER={numba.config.THREADING_LAYER})"
    head, dirty = git_state()
    info = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} available to this process",
        "ram": f"{total_ram_bytes() / 2**30:.1f} GiB" if total_ram_bytes() else "unknown",
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "numba": numba.__version__,
        "logitdescent": f"{logitdescent.__version__} (git {head}, {dirty} uncommitted change(s) under src/)",
        "numba threads": (f"NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}, get_num_threads()="
                          f"{numba.get_num_threads()}, threading layer {layer} (unused); compiled "
                          f"kernel: a ThreadPoolExecutor over {len(os.sched_getaffinity(0))} CPUs (nogil)"),
        "compiled kernel warm-up": f"{warm_up_s:.2f} s (" + ", ".join(
            f"{k} {v:.2f}s" for k, v in compile_times.items()) + ")",
        "env threads": ", ".join(f"{k}={os.environ[k]}" for k in (
            "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
            if k in os.environ) or "(no *_NUM_THREADS variables set)",
    }
    blas = []
    for lib in threadpoolctl.threadpool_info():
        blas.append(
            f"{lib.get('user_api')}: {lib.get('internal_api')} {lib.get('version') or ''} "
            f"threads={lib.get('num_threads')} "
            + (f"arch={lib['architecture']} " if lib.get("architecture") else "")
            + (f"layer={lib['threading_layer']} " if lib.get("threading_layer") else "")
            + f"({Path(lib.get('filepath', '')).name})"
        )
    info["blas"] = blas
    return info


def machine_markdown(info):
    lines = ["| item | value |", "|---|---|"]
    for k, v in info.items():
        if k == "blas":
            continue
        lines.append(f"| {k} | {v} |")
    for i, row in enumerate(info["blas"]):
        lines.append(f"| threadpoolctl[{i}] | {row} |")
    return "\n".join(lines)


class Report:
    """One section's Markdown: an introduction, a shared table (one or more rows per item) and per-item
    blocks, echoed to stdout as they come.

    Items are keyed (a data set, a problem) so that a later ``--only SECTION:KEY`` run can replace some
    items of the stored section and keep the others (:meth:`merge`).
    """

    def __init__(self, title):
        self.title = title
        self.parts = [f"## {title}\n"]
        self.items = []  # {"key", "md", "rows", "stamp"}
        self.table_spec = None  # (title, headers, align)
        self.footer = []
        print(f"\n=== {title} ===", flush=True)

    def text(self, s):
        self.parts.append(s + "\n")
        print(s, flush=True)

    def table(self, headers, rows, align=None, title=None):
        if title:
            self.text(f"**{title}**\n")
        self.text(md_table(headers, rows, align) + "\n")

    def set_table(self, headers, align=None, title=None):
        self.table_spec = (title, list(headers), align)

    def item(self, key, md="", rows=()):
        rows = [list(map(str, r)) for r in rows]
        self.items = [it for it in self.items if it["key"] != key]
        self.items.append({"key": key, "md": md, "rows": rows, "stamp": ""})
        if md:
            print(md, flush=True)
        for r in rows:
            print("  | " + " | ".join(r) + " |", flush=True)

    def note(self, s):
        self.footer.append(s + "\n")
        print(s, flush=True)

    def stamp_items(self, stamp):
        for it in self.items:
            if not it["stamp"]:
                it["stamp"] = stamp

    def merge(self, old_items):
        """Keep the stored items this run did not redo (in their old order), with this run's replacing theirs."""
        new = {it["key"]: it for it in self.items}
        merged = [new.pop(it["key"], it) for it in old_items]
        self.items = merged + list(new.values())

    def markdown(self):
        out = list(self.parts)
        if self.table_spec is not None and any(it["rows"] for it in self.items):
            title, headers, align = self.table_spec
            rows = [r for it in self.items for r in it["rows"]]
            out.append((f"**{title}**\n\n" if title else "") + md_table(headers, rows, align) + "\n")
        for it in self.items:
            if it["md"]:
                out.append(it["md"] + (f"\n_{it['stamp']}_\n" if it["stamp"] else "\n"))
        stamps = sorted({it["stamp"] for it in self.items if it["stamp"] and not it["md"]})
        if stamps:
            out.append("Rows measured: " + "; ".join(f"_{s}_" for s in stamps) + "\n")
        out += self.footer
        return "\n".join(out)


def log(msg):
    print(f"  [{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------
# other processes on the (shared) machine


def _proc_times():
    """``{pid: (cpu seconds, ppid, command)}`` of every process, from /proc."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            fields = stat.rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            ppid = int(fields[1])
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            out[int(name)] = (cpu, ppid, cmd or stat.split("(", 1)[1].split(")", 1)[0])
        except (OSError, IndexError, ValueError):
            continue
    return out


def busy_others(interval=1.0, threshold=0.3):
    """Processes other than this one (and its children) that used more than ``threshold`` of a core
    over the last ``interval`` seconds: ``[(pid, fraction, command)]``."""
    before = _proc_times()
    time.sleep(interval)
    after = _proc_times()
    me = os.getpid()
    rows = []
    for pid, (cpu, ppid, cmd) in after.items():
        if pid == me or ppid == me or pid not in before:
            continue
        frac = (cpu - before[pid][0]) / interval
        if frac >= threshold:
            rows.append((pid, frac, cmd[:90]))
    return sorted(rows, key=lambda r: -r[1])


class QuietGuard:
    """Waits for the machine to be quiet before a measurement (up to a total budget) and notes noise."""

    def __init__(self, budget_s=0.0, interval=1.0):
        self.budget_s = float(budget_s)
        self.interval = float(interval)
        self.waited_s = 0.0
        self.events = []

    def wait(self, what):
        """Before ``what``: wait while other processes are busy (within the budget); return a note or ''."""
        busy = busy_others(self.interval)
        while busy and self.waited_s < self.budget_s:
            log(f"waiting for a quiet machine before {what}: "
                + "; ".join(f"{pid} {frac:.0%} {cmd}" for pid, frac, cmd in busy[:3]))
            time.sleep(15)
            self.waited_s += 16
            busy = busy_others(self.interval)
        if busy:
            note = ("other busy processes at the start: "
                    + "; ".join(f"`{cmd[:60]}` {frac:.0%} CPU" for pid, frac, cmd in busy[:3]))
            self.events.append((what, note))
            return note
        return ""

    def check(self, what):
        busy = busy_others(self.interval / 2)
        if busy:
            note = ("other busy processes at the end: "
                    + "; ".join(f"`{cmd[:60]}` {frac:.0%} CPU" for pid, frac, cmd in busy[:3]))
            self.events.append((what, note))
            return note
        return ""


GUARD = QuietGuard(0.0)
