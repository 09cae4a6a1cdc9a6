#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Benchmark runner for lxmalloc (Python standard library only).

    python3 bench/run.py [--quick] [--runs N] [--only PATTERN,...]
                         [--allocators NAME,...] [--update-docs] [--list]

Runs every workload under glibc (no preload), lxmalloc (build/liblxmalloc.so),
mimalloc, jemalloc and tcmalloc, interleaved (A B C D E, B C D E A, ...), and
records wall time and peak RSS of each run. Writes bench/results/latest.md,
latest.svg and latest.json; --update-docs also copies the table and the chart
into docs/. See docs/BENCHMARKS.md.
"""

import argparse
import datetime
import fnmatch
import hashlib
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

ALLOCATORS = ["glibc", "lxmalloc", "mimalloc", "jemalloc", "tcmalloc"]
LX = "lxmalloc"
PEERS = [a for a in ALLOCATORS if a != LX]
# Variants of lxmalloc that can be asked for with --allocators (not run by
# default): the same library with options set in the environment.
LX_VARIANTS = {"lxmalloc-thp": {"LXMALLOC_THP": "1"}, "lxmalloc-slabs": {"LXMALLOC_MEDIUM": "0"}}

# Debian package and library base name of each peer.
PEER_PACKAGES = {
    "mimalloc": ("libmimalloc2.0", "libmimalloc.so"),
    "jemalloc": ("libjemalloc2", "libjemalloc.so"),
    "tcmalloc": ("libtcmalloc-minimal4", "libtcmalloc_minimal.so"),
}
REDIS_PACKAGES = ["redis-server", "redis-tools"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Installing and locating the allocators


def dpkg_installed(pkg):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and out.stdout.strip().endswith("installed") \
        and "not-installed" not in out.stdout


def dpkg_version(pkg):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def apt_install(pkgs, allow):
    """Install missing Debian packages; True when all are present afterwards."""
    missing = [p for p in pkgs if not dpkg_installed(p)]
    if not missing:
        return True
    if not allow:
        log("bench: not installing %s (--no-install)" % " ".join(missing))
        return False
    if shutil.which("apt-get") is None:
        log("bench: apt-get not found; cannot install %s" % " ".join(missing))
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing
    for attempt in (1, 2):
        log("bench: %s" % " ".join(cmd))
        try:
            r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, timeout=900)
        except (OSError, subprocess.SubprocessError) as e:
            log("bench: apt-get failed: %s" % e)
            return False
        if r.returncode == 0:
            break
        if attempt == 1:
            # The package lists may be missing or stale on a fresh machine.
            log("bench: apt-get install failed; running apt-get update once")
            subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=900)
        else:
            log("bench: apt-get install failed: %s" % r.stderr.strip()[-300:])
    return all(dpkg_installed(p) for p in pkgs)


def locate_peer(pkg, base):
    """Path of the shared library that package pkg ships, e.g. libjemalloc.so.2."""
    cands = []
    try:
        out = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True, timeout=30)
        for line in out.stdout.splitlines():
            name = os.path.basename(line)
            if name.startswith(base) and "debug" not in name and os.path.isfile(line):
                cands.append(line)
    except (OSError, subprocess.SubprocessError):
        pass
    if not cands:
        for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"):
            if os.path.isdir(d):
                for name in os.listdir(d):
                    if name.startswith(base) and "debug" not in name:
                        cands.append(os.path.join(d, name))
    if not cands:
        return None
    # Prefer the soname link (libx.so.2) over the fully versioned file.
    cands.sort(key=lambda p: (len(os.path.basename(p)), p))
    return cands[0]


def find_allocators(build, wanted, allow_install, lx_path=None):
    """Map allocator name -> dict(preload=path or None, note=str, ok=bool)."""
    res = {}
    for name in wanted:
        if name == "glibc":
            res[name] = {"preload": None, "ok": True,
                         "note": "system malloc, glibc %s" % (os.confstr("CS_GNU_LIBC_VERSION") or "?").split()[-1]}
        elif name == LX or name in LX_VARIANTS:
            so = os.path.abspath(lx_path) if lx_path else os.path.join(build, "liblxmalloc.so")
            ok = os.path.isfile(so)
            shown = os.path.relpath(so, ROOT) if so.startswith(ROOT + os.sep) else os.path.basename(so)
            extra = LX_VARIANTS.get(name, {})
            if extra:
                shown += " with " + " ".join("%s=%s" % kv for kv in sorted(extra.items()))
            res[name] = {"preload": so if ok else None, "ok": ok, "env": extra,
                         "note": shown if ok else "%s not found (library not built)" % shown}
        else:
            pkg, base = PEER_PACKAGES[name]
            present = apt_install([pkg], allow_install)
            path = locate_peer(pkg, base) if present else None
            if path is None:
                res[name] = {"preload": None, "ok": False, "note": "not installed (%s)" % pkg}
            else:
                res[name] = {"preload": path, "ok": True,
                             "note": "Debian %s %s" % (pkg, dpkg_version(pkg) or "")}
    return res


# --------------------------------------------------------------------------
# Workloads


def python_exe():
    # Debian's interpreter: built against the system libc, like most programs.
    return "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def workloads(quick):
    """Every workload: name, group, kind and how to run it at full/quick size."""
    q = quick
    w = []

    def exe(name, group, args, what):
        w.append({"name": name, "group": group, "kind": "exe", "args": [str(a) for a in args],
                  "what": what})

    exe("churn-lifo", "churn", ["churn", "lifo", 2000000 if q else 20000000],
        "single thread, 8-512 B, newest freed first")
    exe("churn-fifo", "churn", ["churn", "fifo", 2000000 if q else 20000000],
        "single thread, 8-512 B, oldest freed first")
    for t in (1, 2, 8):
        exe("larson-t%d" % t, "larson",
            ["larson", t, 1500000 if q else 20000000, 4000, 6 if q else 40],
            "%d thread(s), slots handed between threads" % t)
    for t in (1, 2, 8):
        exe("prodcons-t%d" % t, "prodcons", ["prodcons", t, 400000 if q else 4000000],
            "%d producer(s) + %d consumer(s)" % (t, t))
    for mode in ("thrash", "scratch"):
        for t in (1, 2, 8):
            exe("%s-t%d" % (mode, t), "falseshare",
                ["falseshare", mode, t, 15000 if q else 120000, 8, 1000],
                "cache-%s, %d thread(s)" % (mode, t))
    exe("realloc", "realloc", ["realloc", 3 if q else 12, "4M" if q else "8M", 8],
        "8 buffers growing 1.5x to MiBs")
    exe("large", "large", ["large", 15 if q else 100, 1, 7], "64 KiB-64 MiB, 5-25 MiB loop, memalign 4096")
    exe("frag", "frag", ["frag", "8M" if q else "32M", 100],
        "shifting sizes, short/long lifetimes")
    exe("replace", "replace", ["replace", 16 if q else 128, 1000000 if q else 8000000],
        "full heap, random entries replaced (16-128 B)")
    exe("server", "server", ["server", 4, 200000 if q else 600000, "16M" if q else "48M"],
        "4 threads: request buffers, shared LRU cache; busy, quiet, busy")
    w.append({"name": "python", "group": "real", "kind": "python",
              "args": ["0.03" if q else "0.2"], "what": "python3 with PYTHONMALLOC=malloc"})
    w.append({"name": "sqlite", "group": "real", "kind": "sqlite",
              "args": ["10000" if q else "60000"], "what": "sqlite3 in-memory SQL script"})
    w.append({"name": "redis", "group": "real", "kind": "redis",
              "args": ["5000" if q else "30000"], "what": "redis-server under redis-benchmark"})
    return w


# --------------------------------------------------------------------------
# Running one measurement


class Launcher:
    def __init__(self, launch_bin, timeout):
        self.bin = launch_bin
        self.timeout = timeout
        self.tmp = tempfile.mkdtemp(prefix="lxbench-")

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, argv, preload, env, cwd=None, timeout=None):
        """Start argv under the launcher; returns a handle for finish()."""
        rep = os.path.join(self.tmp, "report")
        if os.path.exists(rep):
            os.unlink(rep)
        out = open(os.path.join(self.tmp, "stdout"), "w+b")
        err = open(os.path.join(self.tmp, "stderr"), "w+b")
        cmd = [self.bin, "-t", str(int(timeout or self.timeout)), "-o", rep]
        if preload:
            cmd += ["-p", preload]
        cmd += ["--"] + argv
        p = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=err)
        return {"proc": p, "out": out, "err": err, "report": rep}

    def finish(self, h):
        h["proc"].wait()
        res = {}
        try:
            with open(h["report"]) as f:
                for tok in f.read().split():
                    k, _, v = tok.partition("=")
                    res[k] = float(v) if "." in v else int(v)
        except OSError:
            res = {"status": -1, "signal": 0, "timeout": 0, "wall": 0.0, "maxrss_kb": 0}
            res["launch_error"] = True
        for key in ("out", "err"):
            h[key].seek(0)
            res[key] = h[key].read().decode("utf-8", "replace")
            h[key].close()
        return res

    def run(self, argv, preload, env, cwd=None):
        return self.finish(self.start(argv, preload, env, cwd))


def classify(res):
    """None when the run is good, else a short failure label."""
    if res.get("launch_error"):
        return "launch error"
    if res.get("startup_fail"):
        return "crash (server did not start)"
    if "cannot be preloaded" in res.get("err", ""):
        return "preload failed"
    if res.get("timeout"):
        return "timeout"
    if res.get("signal"):
        try:
            return "crash (%s)" % signal.Signals(res["signal"]).name
        except ValueError:
            return "crash (signal %d)" % res["signal"]
    if res.get("status") != 0:
        return "crash (exit %d)" % res.get("status")
    return None


def redis_ping(sock_path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(sock_path)
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_shutdown(sock_path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5.0)
            s.connect(sock_path)
            s.sendall(b"SHUTDOWN NOSAVE\r\n")
            s.recv(64)
    except OSError:
        pass


def run_redis(launcher, wl, preload, env):
    """Start redis-server on a unix socket (no TCP port), drive it with
    redis-benchmark, stop it; time = client wall time, RSS = server peak."""
    n = int(wl["args"][0])
    sock = os.path.join(launcher.tmp, "redis.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    data = os.path.join(launcher.tmp, "redis-data")
    os.makedirs(data, exist_ok=True)
    server = ["redis-server", "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
              "--save", "", "--appendonly", "no", "--dir", data, "--daemonize", "no",
              "--databases", "1", "--loglevel", "warning"]
    h = launcher.start(server, preload, env)
    deadline = time.monotonic() + 15
    while not redis_ping(sock):
        if h["proc"].poll() is not None or time.monotonic() > deadline:
            if h["proc"].poll() is None:
                h["proc"].terminate()  # the launcher kills the server's group
            res = launcher.finish(h)
            res["startup_fail"] = True
            return res
        time.sleep(0.02)

    # Pipelined (-P 16) so that the server, not the socket round trips,
    # dominates: small values over a 100k keyspace, then 8 KiB values.
    benches = [
        ["-P", "16", "-n", str(n), "-c", "32", "-r", "100000", "-d", "128",
         "-t", "set,get,incr,lpush,rpop,sadd,hset,spop,zadd,lrange_100,mset"],
        ["-P", "16", "-n", str(n // 4), "-c", "16", "-r", "20000", "-d", "8192",
         "-t", "set,get,lpush,lpop"],
    ]
    wall = 0.0
    client_fail = None
    for b in benches:
        t0 = time.perf_counter()
        try:
            r = subprocess.run(["redis-benchmark", "-s", sock, "-q"] + b, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, timeout=launcher.timeout)
            if r.returncode != 0:
                client_fail = "redis-benchmark exit %d: %s" % (r.returncode, r.stderr.strip()[-200:])
        except subprocess.TimeoutExpired:
            client_fail = "redis-benchmark timed out"
        wall += time.perf_counter() - t0
        if client_fail or not redis_ping(sock):
            client_fail = client_fail or "server stopped answering"
            break
    redis_shutdown(sock)
    try:
        h["proc"].wait(timeout=30)
    except subprocess.TimeoutExpired:
        h["proc"].terminate()
    res = launcher.finish(h)
    res["wall"] = wall
    if client_fail and not classify(res):
        res["status"] = 1
        res["err"] = client_fail + "\n" + res.get("err", "")
    return res


def run_workload(launcher, wl, alloc, bindir, env_base):
    env = dict(env_base)
    env.update(alloc.get("env", {}))
    preload = alloc["preload"]
    if wl["kind"] == "exe":
        return launcher.run([os.path.join(bindir, wl["args"][0])] + wl["args"][1:], preload, env)
    if wl["kind"] == "python":
        env["PYTHONMALLOC"] = "malloc"
        env["PYTHONHASHSEED"] = "0"
        return launcher.run([python_exe(), "-S", os.path.join(HERE, "py_workload.py")] + wl["args"],
                            preload, env)
    if wl["kind"] == "sqlite":
        return launcher.run(["sqlite3", "-batch", "-cmd", "PRAGMA temp_store = MEMORY",
                             "-cmd", ".parameter set @n %s" % wl["args"][0], ":memory:",
                             ".read %s" % os.path.join(HERE, "sqlite_workload.sql")], preload, env)
    if wl["kind"] == "redis":
        # Debian's redis-server is linked against jemalloc; preloading libc
        # itself puts glibc's malloc first so "glibc" really means glibc.
        return run_redis(launcher, wl, preload or "libc.so.6", env)
    raise ValueError(wl["kind"])


def workload_available(wl, allow_install):
    if wl["kind"] == "sqlite":
        if shutil.which("sqlite3") is None and not apt_install(["sqlite3"], allow_install):
            return "sqlite3 not available"
    if wl["kind"] == "redis":
        if shutil.which("redis-server") is None or shutil.which("redis-benchmark") is None:
            apt_install(REDIS_PACKAGES, allow_install)
        if shutil.which("redis-server") is None or shutil.which("redis-benchmark") is None:
            return "redis-server/redis-benchmark not available"
    return None


# --------------------------------------------------------------------------
# Summaries


# RSS figures the server workload prints about itself (bytes): the peak of its
# samples, the median over its last phase, and the value when the quiet phase ended.
SAMPLED_RSS = ("peak_rss", "steady_rss", "quiet_rss")


def geomean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    if not xs:
        return None
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def summarize(results, wls, allocs):
    """results[wl][alloc] = list of run dicts -> per cell median / failure."""
    summary = {}
    for wl in wls:
        name = wl["name"]
        row = {}
        for a in allocs:
            runs = results.get(name, {}).get(a)
            if runs is None:
                row[a] = {"state": "n/a"}
                continue
            fails = [r["fail"] for r in runs if r["fail"]]
            good = [r for r in runs if not r["fail"]]
            cell = {"runs": len(runs), "good": len(good)}
            if fails:
                cell["state"] = fails[0].split(" ")[0]  # crash / timeout / preload
                cell["detail"] = fails[0]
            else:
                cell["state"] = "ok"
            if good:
                cpus = [(r.get("utime") or 0.0) + (r.get("stime") or 0.0) for r in good]
                cell["cpu"] = statistics.median(cpus)
                faults = [r["minflt"] for r in good if r.get("minflt") is not None]
                if len(faults) == len(good):
                    cell["minflt"] = statistics.median(faults)
                walls = [r["wall"] for r in good]
                rss = [r["maxrss_kb"] for r in good]
                cell["wall"] = statistics.median(walls)
                cell["rss_kb"] = statistics.median(rss)
                cell["wall_spread"] = (max(walls) - min(walls)) / cell["wall"] if cell["wall"] else 0
                lives = [r.get("peak_live") for r in good if r.get("peak_live")]
                if lives:
                    cell["peak_live"] = statistics.median(lives)
                for key in SAMPLED_RSS:
                    vals = [r[key] for r in good if r.get(key)]
                    if vals:
                        cell[key] = statistics.median(vals)
            row[a] = cell
        summary[name] = row
    return summary


def value(cell, key):
    if cell.get("state") == "ok" and key in cell:
        return cell[key]
    return None


def fmt_time(cell):
    v = value(cell, "wall")
    if v is None:
        return cell_label(cell)
    return "%.3f" % v if v < 10 else "%.2f" % v


def fmt_cpu(cell):
    v = value(cell, "cpu")
    if v is None:
        return cell_label(cell)
    return "%.3f" % v if v < 10 else "%.2f" % v


def fmt_faults(cell):
    v = value(cell, "minflt")
    if v is None:
        return cell_label(cell)
    return "%.1fk" % (v / 1000.0) if v >= 1000 else "%d" % v


def fmt_rss(cell):
    v = value(cell, "rss_kb")
    if v is None:
        return cell_label(cell)
    mib = v / 1024.0
    return "%.1f" % mib if mib < 100 else "%.0f" % mib


def cell_label(cell):
    st = cell.get("state", "n/a")
    if st == "ok":
        return "n/a"
    if st in ("crash", "timeout", "preload", "launch"):
        return "crash" if st != "timeout" else "timeout"
    return st


def fmt_ratio(r):
    return "—" if r is None else "%.2f" % r


def ratios(summary, wls, key, peers):
    """ratio[wl][peer] = lx / peer for one metric, None when either failed."""
    out = {}
    for wl in wls:
        row = summary[wl["name"]]
        lx = value(row.get(LX, {}), key)
        out[wl["name"]] = {}
        for p in peers:
            pv = value(row.get(p, {}), key)
            out[wl["name"]][p] = (lx / pv) if lx is not None and pv else None
    return out


def cpu_accounting():
    """(busy seconds of all CPUs from /proc/stat, CPU seconds of this process
    and its waited-for children, wall clock)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        hz = os.sysconf("SC_CLK_TCK")
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / float(hz)  # minus idle, iowait
    except (OSError, ValueError, IndexError):
        return None
    import resource
    own = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        ru = resource.getrusage(who)
        own += ru.ru_utime + ru.ru_stime
    return busy, own, time.monotonic()


def other_cpu(a, b):
    """CPU seconds spent by processes other than the suite between a and b, and
    that as a fraction of the machine's capacity over the interval."""
    if a is None or b is None or b[2] <= a[2]:
        return None
    other = max(0.0, (b[0] - a[0]) - (b[1] - a[1]))
    return other, other / ((b[2] - a[2]) * (os.cpu_count() or 1))


def machine_info():
    info = {"date": subprocess.run(["date"], capture_output=True, text=True).stdout.strip(),
            "nproc": os.cpu_count(), "kernel": os.uname().release}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            info["cpu"] = m.group(1).strip() if m else "unknown"
    except OSError:
        info["cpu"] = "unknown"
    try:
        with open("/proc/meminfo") as f:
            m = re.search(r"^MemTotal:\s*(\d+)", f.read(), re.M)
            info["memory"] = "%.1f GiB" % (int(m.group(1)) / 1048576.0)
    except (OSError, AttributeError):
        info["memory"] = "unknown"
    try:
        with open("/etc/debian_version") as f:
            info["os"] = "Debian " + f.read().strip()
    except OSError:
        info["os"] = "unknown"

    def git(*args):
        try:
            r = subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True, text=True, timeout=30)
            return r.stdout.strip() if r.returncode == 0 else ""
        except (OSError, subprocess.SubprocessError):
            return ""
    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    if git("status", "--porcelain", "--", "src", "include", "Makefile"):
        commit += " (library sources modified)"
    info["commit"] = commit
    return info


def render_markdown(meta, summary, wls, allocs, skipped):
    peers = [p for p in allocs if p != LX]
    have_lx = LX in allocs
    L = []
    L.append("Date: %s  " % meta["machine"]["date"])
    m = meta["machine"]
    L.append("Machine: %s cores, %s memory, %s, kernel %s, %s  " %
             (m["nproc"], m["memory"], m["cpu"], m["kernel"], m["os"]))
    L.append("Commit: %s  " % m["commit"])
    oc = meta.get("other_cpu")
    if oc is not None:
        L.append("CPU time used by other processes during the run: %.0f core-seconds, %.1f%% of the "
                 "machine%s  " % (oc[0], oc[1] * 100,
                                  " (other work was running: expect extra noise)" if oc[1] > 0.05 else ""))
    L.append("Mode: %s, %d runs per allocator and workload, allocators interleaved; "
             "medians shown; suite wall time %.0f s  " %
             ("QUICK" if meta["quick"] else "full", meta["runs"], meta["elapsed"]))
    L.append("Allocators: " + "; ".join("%s (%s)" % (a, meta["allocators"][a]["note"]) for a in allocs))
    L.append("")

    def table(title, key, fmt, unit_note):
        L.append("### %s" % title)
        L.append("")
        L.append(unit_note)
        L.append("")
        hdr = ["workload"] + allocs + (["lx/" + p for p in peers] if have_lx else [])
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "|".join(["---"] + ["---:"] * (len(hdr) - 1)) + "|")
        rat = ratios(summary, wls, key, peers)
        for wl in wls:
            row = summary[wl["name"]]
            cells = [wl["name"]] + [fmt(row.get(a, {})) for a in allocs]
            if have_lx:
                cells += [fmt_ratio(rat[wl["name"]][p]) for p in peers]
            L.append("| " + " | ".join(cells) + " |")
        # Geometric means: allocator columns over workloads where all succeeded,
        # ratio columns over workloads where lxmalloc and that peer succeeded.
        present = [a for a in allocs if meta["allocators"][a]["ok"]]
        complete = [wl for wl in wls
                    if all(value(summary[wl["name"]].get(a, {}), key) is not None for a in present)]
        g = ["**geomean**"]
        for a in allocs:
            gm = geomean([value(summary[wl["name"]][a], key) for wl in complete]) if a in present else None
            if gm is None:
                g.append("—")
            elif key in ("wall", "cpu"):
                g.append("%.3f" % gm)
            elif key == "minflt":
                g.append(fmt_faults({"state": "ok", "minflt": gm}))
            else:
                g.append("%.1f" % (gm / 1024.0))
        if have_lx:
            for p in peers:
                vals = [rat[wl["name"]][p] for wl in wls if rat[wl["name"]][p] is not None]
                gm = geomean(vals)
                if gm is None:
                    g.append("—")
                else:
                    g.append("**%s**" % fmt_ratio(gm) + ("" if len(vals) == len(wls) else " (%d)" % len(vals)))
        L.append("| " + " | ".join(g) + " |")
        L.append("")

    table("Wall time (median seconds; lower is better)", "wall", fmt_time,
          "lx/X is lxmalloc's median divided by X's: below 1.00 lxmalloc is faster. "
          "The geomean row of the allocator columns covers the workloads where every allocator "
          "finished; a ratio geomean over fewer workloads shows their count in parentheses.")
    table("Peak RSS (median MiB; lower is better)", "rss_kb", fmt_rss,
          "Peak resident set size (ru_maxrss) of the workload process (for redis, of the server). "
          "lx/X below 1.00: lxmalloc used less memory.")

    table("CPU time (median user + system seconds; lower is better)", "cpu", fmt_cpu,
          "CPU time of the workload process and its threads (for redis, of the server only). "
          "Less disturbed than wall time when other processes compete for the cores; for the "
          "threaded workloads it also shows time burnt spinning or yielding.")
    table("Page faults (median minor faults; lower is better)", "minflt", fmt_faults,
          "Minor page faults of the workload process (ru_minflt; for redis, of the server): "
          "pages touched for the first time, or again after they were given back to the kernel. "
          "Where a fault is dear (a virtual machine), they explain much of the time.")

    frag = summary.get("frag")
    if frag:
        L.append("### Fragmentation: frag peak RSS against peak live bytes")
        L.append("")
        L.append("| allocator | peak live MiB | peak RSS MiB | RSS / live |")
        L.append("|---|---:|---:|---:|")
        for a in allocs:
            c = frag.get(a, {})
            live = value(c, "peak_live")
            rss = value(c, "rss_kb")
            if live and rss:
                L.append("| %s | %.1f | %.1f | %.2f |" % (a, live / 1048576.0, rss / 1024.0,
                                                          rss * 1024.0 / live))
            else:
                L.append("| %s | — | %s | — |" % (a, fmt_rss(c)))
        L.append("")

    srv = summary.get("server")
    if srv:
        L.append("### Server: RSS over time")
        L.append("")
        L.append("Sampled by the workload from /proc/self/statm (median of the runs): the peak of "
                 "the samples, the steady state (median over the last busy phase) and the RSS when "
                 "the quiet phase (a quarter of the cache) ended. lx/X below 1.00: lxmalloc used less.")
        L.append("")
        hdr = ["allocator", "peak live MiB", "peak RSS MiB", "steady RSS MiB", "after quiet MiB"]
        if have_lx:
            hdr += ["lx/X peak", "lx/X steady", "lx/X quiet"]
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "|".join(["---"] + ["---:"] * (len(hdr) - 1)) + "|")
        lxc = srv.get(LX, {})
        for a in allocs:
            c = srv.get(a, {})
            cells = [a]
            live = value(c, "peak_live")
            cells.append("%.1f" % (live / 1048576.0) if live else "—")
            for key in SAMPLED_RSS:
                v = value(c, key)
                cells.append("%.1f" % (v / 1048576.0) if v else fmt_rss(c) if value(c, "wall") is None else "—")
            if have_lx:
                for key in SAMPLED_RSS:
                    mine, theirs = value(lxc, key), value(c, key)
                    cells.append(fmt_ratio(mine / theirs if mine and theirs else None))
            L.append("| " + " | ".join(cells) + " |")
        L.append("")

    spread = []
    for a in allocs:
        sp = [(summary[wl["name"]][a].get("wall_spread"), wl["name"]) for wl in wls
              if summary[wl["name"]].get(a, {}).get("wall_spread") is not None]
        if sp:
            worst = max(sp)
            spread.append("%s %.0f%% (%s)" % (a, worst[0] * 100, worst[1]))
    if spread:
        L.append("Largest run-to-run spread of wall time, (max - min) / median: " + "; ".join(spread) + ".")
        L.append("")

    fails = []
    for wl in wls:
        for a in allocs:
            c = summary[wl["name"]].get(a, {})
            if c.get("state") not in ("ok", "n/a", None):
                fails.append("- %s on %s: %s in %d of %d runs%s" %
                             (a, wl["name"], c.get("detail", c["state"]), c["runs"] - c["good"], c["runs"],
                              ("; " + meta["fail_notes"].get("%s/%s" % (wl["name"], a), ""))
                              if meta["fail_notes"].get("%s/%s" % (wl["name"], a)) else ""))
    for a in allocs:
        if not meta["allocators"][a]["ok"]:
            fails.append("- %s: %s, shown as n/a" % (a, meta["allocators"][a]["note"]))
    for name, why in skipped:
        fails.append("- %s skipped: %s" % (name, why))
    if fails:
        L.append("Failures and omissions:")
        L.append("")
        L.extend(fails)
        L.append("")
    return "\n".join(L) + "\n"


# --------------------------------------------------------------------------
# SVG chart (hand-written SVG, no plotting library)

PEER_COLORS = {"glibc": "#6b7280", "mimalloc": "#2563eb", "jemalloc": "#d97706", "tcmalloc": "#059669"}
LX_COLOR = "#dc2626"


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_svg(meta, summary, wls, allocs):
    peers = [p for p in allocs if p != LX]
    if LX not in allocs or not peers:
        return None
    rows = [wl["name"] for wl in wls] + ["geomean"]
    metrics = [("wall", "Wall time ratio (lxmalloc / peer)"), ("rss_kb", "Peak RSS ratio (lxmalloc / peer)")]
    lo, hi = -3.0, 3.0  # log2 range: 1/8x .. 8x
    label_w, panel_w, gap = 110, 330, 30
    bar_h, row_pad = 6, 6
    row_h = bar_h * len(peers) + row_pad
    top = 78
    height = top + row_h * len(rows) + 60
    width = label_w + 2 * panel_w + gap + 20
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'font-family="sans-serif" font-size="11">' % (width, height, width, height)]
    out.append('<rect width="100%" height="100%" fill="white"/>')
    m = meta["machine"]
    out.append('<text x="10" y="18" font-size="14" font-weight="bold">lxmalloc against each peer '
               '(ratio of medians; left of 1 = lxmalloc better)</text>')
    out.append('<text x="10" y="34" fill="#444">%s · %s · %s cores · commit %s</text>'
               % (esc(m["date"]), esc(m["cpu"]), m["nproc"], esc(m["commit"])))
    lx_ = label_w
    for i, p in enumerate(peers):
        x = 10 + i * 110
        out.append('<rect x="%d" y="44" width="10" height="10" fill="%s"/>' % (x, PEER_COLORS.get(p, "#888")))
        out.append('<text x="%d" y="53">vs %s</text>' % (x + 14, esc(p)))
    for k, (key, title) in enumerate(metrics):
        x0 = lx_ + k * (panel_w + gap)

        def xpos(r):
            v = max(lo, min(hi, math.log2(r)))
            return x0 + (v - lo) / (hi - lo) * panel_w
        out.append('<text x="%d" y="%d" font-weight="bold">%s</text>' % (x0, top - 8, esc(title)))
        base_y = top + row_h * len(rows)
        for e in range(int(lo), int(hi) + 1):
            x = xpos(2.0 ** e)
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="%s"/>'
                       % (x, top, x, base_y, "#000" if e == 0 else "#ddd", "1.2" if e == 0 else "1"))
            lab = ("%gx" % (2.0 ** e)) if e >= 0 else ("1/%dx" % (2 ** -e))
            out.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#444">%s</text>' % (x, base_y + 14, lab))
        rat = ratios(summary, wls, key, peers)
        for ri, name in enumerate(rows):
            y = top + ri * row_h
            if ri % 2 == 0:
                out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#f5f5f5"/>'
                           % (x0, y, panel_w, row_h))
            if k == 0:
                out.append('<text x="%d" y="%d" text-anchor="end"%s>%s</text>'
                           % (lx_ - 6, y + row_h / 2 + 4, ' font-weight="bold"' if name == "geomean" else "",
                              esc(name)))
            for pi, p in enumerate(peers):
                if name == "geomean":
                    r = geomean([rat[w["name"]][p] for w in wls])
                else:
                    r = rat[name][p]
                by = y + row_pad / 2 + pi * bar_h
                if r is None:
                    cell = summary.get(name, {}).get(LX, {}) if name != "geomean" else {}
                    why = cell_label(cell) if cell.get("state") not in (None, "ok") else "n/a"
                    out.append('<text x="%.1f" y="%.1f" font-size="7" fill="#b91c1c">%s vs %s</text>'
                               % (xpos(1.0) + 3, by + bar_h - 0.5, esc(why), esc(p)))
                    continue
                x1, xr = xpos(1.0), xpos(r)
                out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">'
                           '<title>%s %s vs %s: %.3f</title></rect>'
                           % (min(x1, xr), by, max(abs(xr - x1), 0.8), bar_h - 1, PEER_COLORS.get(p, "#888"),
                              esc(name), "time" if key == "wall" else "RSS", esc(p), r))
                if name == "geomean" or math.log2(r) > hi or math.log2(r) < lo:
                    tx = xr + 3 if r >= 1 else xr - 3
                    anchor = "start" if r >= 1 else "end"
                    if math.log2(r) > hi:
                        tx, anchor = xr - 2, "end"
                    if math.log2(r) < lo:
                        tx, anchor = xr + 2, "start"
                    out.append('<text x="%.1f" y="%.1f" font-size="7" text-anchor="%s">%.2f</text>'
                               % (tx, by + bar_h - 1, anchor, r))
    out.append('<text x="10" y="%d" fill="#444" font-size="10">Bars beyond 1/8x or 8x are clipped '
               '(value printed). Missing bars: lxmalloc crashed, timed out or was not built.</text>'
               % (height - 12))
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------


def replace_between(text, begin, end, body):
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < 0 or j < i:
        return None
    return text[: i + len(begin)] + "\n" + body + text[j:]


def median_run(runs, key):
    """The good run whose `key` is the median of the good runs' (None if none)."""
    good = sorted((r for r in runs if not r["fail"] and r.get(key) is not None), key=lambda r: r[key])
    return good[len(good) // 2] if good else None


# Workloads that print rss_series, and what their x axis is.
RSS_CHARTS = {
    "server": "progress through the requests (busy, quiet, busy with another size mix)",
    "frag": "progress through the 15 size phases (16-64 B up to 2-8 KiB and back)",
}


def render_rss_svg(meta, results, allocs, wl_name):
    """RSS (and live bytes) over the run of a workload that samples them, one line
    per allocator, from the run with the median peak RSS; None without samples."""
    series = {}
    for a in allocs:
        r = median_run(results.get(wl_name, {}).get(a, []), "maxrss_kb")
        if r and r.get("rss_series"):
            series[a] = r["rss_series"]
    if not series:
        return None
    width, height, left, right, top, bottom = 720, 380, 60, 130, 50, 40
    pw, ph = width - left - right, height - top - bottom
    ymax = max(max(v[0] for v in s) for s in series.values()) / 1024.0
    step = next(st for st in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000)
                if ymax / st <= 8)
    ytop = step * math.ceil(ymax / step) or step
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'font-family="sans-serif" font-size="11">' % (width, height, width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="18" font-size="14" font-weight="bold">%s: resident memory '
           'over the run (MiB)</text>' % esc(wl_name),
           '<text x="10" y="34" fill="#444">%s · %s · commit %s · dashed: live bytes under '
           'lxmalloc</text>' % (esc(meta["machine"]["date"]), esc(meta["machine"]["cpu"]),
                                esc(meta["machine"]["commit"]))]
    for k in range(int(ytop / step) + 1):
        v = k * step
        y = top + ph - ph * v / ytop
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (left, y, left + pw, y))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>' % (left - 6, y + 4, v))
    out.append('<text x="%d" y="%d" text-anchor="middle" fill="#444">%s</text>'
               % (left + pw / 2, height - 12, esc(RSS_CHARTS.get(wl_name, "progress"))))

    def path(points):
        n = len(points)
        return " ".join("%s%.1f,%.1f" % ("M" if i == 0 else "L", left + pw * i / max(1, n - 1),
                                         top + ph - ph * (v / 1024.0) / ytop)
                        for i, v in enumerate(points))
    for i, (a, s) in enumerate(series.items()):
        color = LX_COLOR if a == LX else PEER_COLORS.get(a, "#888")
        out.append('<path d="%s" fill="none" stroke="%s" stroke-width="%s"/>' %
                   (path([v[0] for v in s]), color, "2.2" if a == LX else "1.4"))
        if a == LX:
            out.append('<path d="%s" fill="none" stroke="%s" stroke-width="1.2" stroke-dasharray="4,3"/>' %
                       (path([v[1] for v in s]), color))
        y = top + 14 + i * 16
        out.append('<rect x="%d" y="%d" width="12" height="3" fill="%s"/>' % (left + pw + 14, y - 4, color))
        out.append('<text x="%d" y="%d">%s</text>' % (left + pw + 32, y, esc(a)))
    out.append('</svg>')
    return "\n".join(out) + "\n"


def update_docs(md, svg, rss_svgs=None):
    docs = os.path.join(ROOT, "docs")
    os.makedirs(docs, exist_ok=True)
    with open(os.path.join(docs, "bench-latest.md"), "w") as f:
        f.write("# Latest benchmark results\n\nWritten by `bench/run.py --update-docs`; "
                "see BENCHMARKS.md for what the workloads are.\n\n" + md)
    if svg:
        with open(os.path.join(docs, "bench-latest.svg"), "w") as f:
            f.write(svg)
    for w, svg_ in (rss_svgs or {}).items():
        with open(os.path.join(docs, "bench-%s-rss.svg" % w), "w") as f:
            f.write(svg_)
    doc = os.path.join(docs, "BENCHMARKS.md")
    if os.path.exists(doc):
        with open(doc) as f:
            text = f.read()
        new = replace_between(text, "<!-- bench-results:begin -->", "<!-- bench-results:end -->", md)
        if new is not None:
            with open(doc, "w") as f:
                f.write(new)
    log("bench: updated docs/bench-latest.md%s and docs/BENCHMARKS.md" %
        (", docs/bench-latest.svg" if svg else ""))


def ensure_binaries(build, names):
    bindir = os.path.join(build, "bench")
    missing = [n for n in names if not os.path.exists(os.path.join(bindir, n))]
    if missing:
        log("bench: building %s" % " ".join(missing))
        r = subprocess.run(["make", "-C", ROOT, "--no-print-directory", "BUILD=" + build, "bench-bins"],
                           stdout=sys.stderr, stderr=sys.stderr)
        if r.returncode != 0:
            sys.exit("bench: building the workloads failed")
    return bindir


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, 3 runs (under two minutes)")
    ap.add_argument("--runs", type=int, help="runs per allocator and workload (default 5, QUICK 3)")
    ap.add_argument("--only", help="comma-separated workload names or globs (e.g. 'larson-*,redis')")
    ap.add_argument("--allocators", help="comma-separated subset of %s, or the variant %s" %
                    (",".join(ALLOCATORS), ",".join(LX_VARIANTS)))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build directory (default build/)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"), help="results directory")
    ap.add_argument("--lxmalloc", metavar="PATH", help="library to measure as lxmalloc "
                    "(default BUILD/liblxmalloc.so)")
    ap.add_argument("--timeout", type=int, help="seconds per run before it counts as a timeout "
                    "(default 240, QUICK 40; once a workload has a good run, ten times its "
                    "slowest good run, at least 30 s (QUICK 15 s), if that is less)")
    ap.add_argument("--no-install", action="store_true", help="never call apt-get")
    ap.add_argument("--update-docs", action="store_true", help="copy the results into docs/")
    ap.add_argument("--list", action="store_true", help="list the workloads and exit")
    ap.add_argument("--docs-only", action="store_true",
                    help="run nothing: copy OUT/latest.md and latest.svg of an earlier run into docs/")
    args = ap.parse_args()

    if args.docs_only:
        with open(os.path.join(args.out, "latest.md")) as f:
            md = f.read()
        svg = None
        if os.path.exists(os.path.join(args.out, "latest.svg")):
            with open(os.path.join(args.out, "latest.svg")) as f:
                svg = f.read()
        update_docs(md, svg)
        return 0

    wls = workloads(args.quick)
    if args.only:
        pats = [p.strip() for p in args.only.split(",") if p.strip()]
        wls = [w for w in wls if any(fnmatch.fnmatchcase(w["name"], p) or w["group"] == p for p in pats)]
        if not wls:
            sys.exit("bench: --only matched no workload")
    if args.list:
        for w in wls:
            print("%-14s %-10s %s" % (w["name"], w["group"], w["what"]))
        return 0
    allocs = ALLOCATORS
    if args.allocators:
        allocs = [a.strip() for a in args.allocators.split(",") if a.strip()]
        bad = [a for a in allocs if a not in ALLOCATORS and a not in LX_VARIANTS]
        if bad:
            sys.exit("bench: unknown allocator(s): %s" % ", ".join(bad))
    runs = args.runs or (3 if args.quick else 5)
    timeout = args.timeout or (40 if args.quick else 240)
    build = os.path.abspath(args.build)
    allow_install = not args.no_install and os.geteuid() == 0

    t_start = time.monotonic()
    alloc_info = find_allocators(build, allocs, allow_install, args.lxmalloc)
    for a in allocs:
        log("bench: %-9s %s%s" % (a, alloc_info[a]["note"],
                                  "" if alloc_info[a]["ok"] else "  -> shown as n/a"))
    bindir = ensure_binaries(build, sorted({w["args"][0] for w in wls if w["kind"] == "exe"} | {"launch"}))

    skipped = []
    avail = []
    for w in wls:
        why = workload_available(w, allow_install)
        if why:
            log("bench: skipping %s: %s" % (w["name"], why))
            skipped.append((w["name"], why))
        else:
            avail.append(w)
    wls = avail

    env_base = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    launcher = Launcher(os.path.join(bindir, "launch"), timeout)
    private = None
    for name in [LX] + list(LX_VARIANTS):
        lx = alloc_info.get(name)
        if not (lx and lx["ok"]):
            continue
        # Preload a private copy, so a rebuild during the run cannot change
        # the library between runs.
        if private is None:
            private = os.path.join(launcher.tmp, "liblxmalloc.so")
            shutil.copyfile(lx["preload"], private)
        with open(private, "rb") as f:
            lx["note"] += ", sha256 %s" % hashlib.sha256(f.read()).hexdigest()[:12]
        lx["preload"] = private
    cpu_start = cpu_accounting()
    results = {}
    fail_notes = {}
    try:
        for wi, wl in enumerate(wls):
            res_wl = results.setdefault(wl["name"], {})
            gave_up = set()
            for k in range(runs):
                # Each round starts one allocator later (A B C D E, B C D E A,
                # ...): the process after glibc's on realloc and large paid in
                # system time for the 200 MB the kernel was still freeing.
                for a in allocs[k % len(allocs):] + allocs[:k % len(allocs)]:
                    info = alloc_info[a]
                    if not info["ok"] or a in gave_up:
                        continue
                    # Ten times the slowest good run so far (at least a floor),
                    # so a hang costs little; never above --timeout.
                    seen = [r["wall"] for rs in res_wl.values() for r in rs if not r["fail"]]
                    launcher.timeout = timeout if not seen else \
                        min(timeout, max(15 if args.quick else 30, 10 * max(seen)))
                    res = run_workload(launcher, wl, info, bindir, env_base)
                    fail = classify(res)
                    m = re.search(r"peak_live_bytes=(\d+)", res.get("out", ""))
                    rec = {"wall": res.get("wall", 0.0), "maxrss_kb": res.get("maxrss_kb", 0),
                           "utime": res.get("utime"), "stime": res.get("stime"),
                           "minflt": res.get("minflt"), "fail": fail,
                           "peak_live": int(m.group(1)) if m else None}
                    # The server workload samples its own RSS over time.
                    for key in SAMPLED_RSS:
                        m = re.search(r"\b%s_bytes=(\d+)" % key, res.get("out", ""))
                        if m:
                            rec[key] = int(m.group(1))
                    m = re.search(r"\brss_series=([\d:,]+)", res.get("out", ""))
                    if m:
                        rec["rss_series"] = [[int(v) for v in pair.split(":")]
                                             for pair in m.group(1).split(",")]
                    res_wl.setdefault(a, []).append(rec)
                    # A process that ends with hundreds of MiB resident leaves
                    # the kernel freeing them for a while, and the next run
                    # pays in system time (lxmalloc's large: 0.22-0.30 s of it
                    # right after glibc's run, 0.06-0.11 s after a pause of a
                    # second): let it settle, a second for every 256 MiB.
                    settle = min(1.0, (rec["maxrss_kb"] or 0) / (256.0 * 1024))
                    if settle > 0.125:
                        time.sleep(settle)
                    if fail:
                        tail = res.get("err", "").strip().splitlines()[-3:]
                        fail_notes.setdefault("%s/%s" % (wl["name"], a),
                                              "stderr: " + " / ".join(tail) if tail else "")
                        if fail == "timeout" or fail.startswith("preload"):
                            gave_up.add(a)
                    log("[%2d/%d] %-13s %-9s run %d/%d  %s" %
                        (wi + 1, len(wls), wl["name"], a, k + 1, runs,
                         fail.upper() if fail else "%7.3f s %8.1f MiB" % (rec["wall"], rec["maxrss_kb"] / 1024.0)))
    except KeyboardInterrupt:
        log("bench: interrupted; summarizing what ran")
    finally:
        launcher.cleanup()

    wls = [w for w in wls if w["name"] in results]
    elapsed = time.monotonic() - t_start
    meta = {"machine": machine_info(), "quick": args.quick, "runs": runs, "elapsed": elapsed,
            "other_cpu": other_cpu(cpu_start, cpu_accounting()),
            "allocators": alloc_info, "fail_notes": fail_notes}
    summary = summarize(results, wls, allocs)
    md = render_markdown(meta, summary, wls, allocs, skipped)
    svg = render_svg(meta, summary, wls, allocs)
    rss_svgs = {w: render_rss_svg(meta, results, allocs, w) for w in RSS_CHARTS}
    rss_svgs = {w: svg_ for w, svg_ in rss_svgs.items() if svg_}

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(md)
    if svg:
        with open(os.path.join(args.out, "latest.svg"), "w") as f:
            f.write(svg)
    for w, svg_ in rss_svgs.items():
        with open(os.path.join(args.out, "%s-rss.svg" % w), "w") as f:
            f.write(svg_)
    with open(os.path.join(args.out, "latest.json"), "w") as f:
        json.dump({"meta": meta, "workloads": wls, "results": results, "skipped": skipped}, f, indent=1)
    print(md)
    log("bench: wrote %s/latest.md%s and latest.json in %.0f s" %
        (os.path.relpath(args.out, os.getcwd()), ", latest.svg" if svg else "", elapsed))
    if args.update_docs:
        update_docs(md, svg, rss_svgs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
