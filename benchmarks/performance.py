#!/usr/bin/env python3
"""The exporter's performance benchmark (issue 12): one table of medians and ratios, and JSON.

Publishes the exporter (Release) and the simulators, starts the Dify console simulator and the
API_Meter simulator on loopback, and runs the real exporter (`run --once`, its own process, under
GNU time) case by case, each case --repeat times (default 3):

  sweep     many short conversations (the default generator), 20 ms per Dify request: wall time at
            DIFY_FETCH_CONCURRENCY 1/4/8/16 and at the default (unset), requests served vs the
            simulator's request lower bound, wall time vs the lower bound's minimum wall time
            (lower bound x latency / concurrency), speed-up vs concurrency 1.
  chatflow  the same sweep on a few long chatflow (advanced-chat) conversations.
  size      no latency, ~10k and ~100k events (and ~1M with --million): peak RSS, CPU ms per 1,000
            events, and a second `run --once` with no new data: its wall time as % of the full run.
  startup   `config --check` and the no-op `run --once` at ~10k events (wall ms).
  database  the database source (DIFY_SOURCE=database) against the console source on the same
            workspace: the simulator also writes it into Dify's tables in a throwaway PostgreSQL
            (tests/postgres-cluster.sh, or --database-server). ~100k events --repeat times, and ~1M
            once with --million; wall, CPU, peak RSS of each source; both checked against the truth.

Every run checks what the fake API_Meter holds for the run's own tenant against the simulator's
truth (per day, provider, model: tokens, requests, cost) and stops with exit 1 when they differ.
Absolute times depend on the machine (and on anything else running on it); compare the ratios
measured within one run. Needs python3, GNU time (/usr/bin/time) and the .NET SDK.

  benchmarks/performance.py [--repeat 3] [--million] [--only sweep,chatflow,size,startup,database]
                            [--levels 1,4,8,16,default] [--exporter-ref GIT_REF] [--baseline GIT_REF]
                            [--publish native|ready-to-run|jit] [--baseline-publish MODE]
                            [--database-server CONNSTRING] [--json FILE]

The exporter is published the way the Dockerfile publishes it (for linux-x64, Native AOT) unless
--publish says otherwise (ready-to-run: framework-dependent ReadyToRun, the shipped form before
Native AOT; jit: a plain `dotnet publish`); --baseline-publish sets the baseline's (default: the same). --exporter-ref builds the exporter from another commit instead of the working tree.
--baseline GIT_REF also builds that commit's exporter (published the same way as ours) and runs
it in the same benchmark run, alternating with ours run by run against the same simulators: the table
then shows both and the ratio ours / baseline (before/after figures measured under the same load).
The load average is printed with the table: on a shared host compare ratios, and CPU seconds rather
than wall time.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token-0001"
# The simulator records the exporter's requests for `Simulators replay` (the floor of the sweep,
# chatflow and size rows); not at 1M, where the record alone would take hundreds of MB.
RECORD = ("--record-requests",)


def log(message):
    print(message, file=sys.stderr, flush=True)


def sh(args, **kwargs):
    subprocess.run(args, check=True, **kwargs)


PUBLISH_ARGS = {
    # Native AOT as the Dockerfile publishes it; gcc links where clang is missing (the csproj does the
    # same, but an older --exporter-ref/--baseline commit's csproj may not).
    "native": ["-r", "linux-x64", "-p:PublishAot=true", "-p:PublishReadyToRun=false"] + ([] if shutil.which("clang") else ["-p:CppCompilerAndLinker=gcc"]),
    "ready-to-run": ["-r", "linux-x64", "--self-contained", "false", "-p:PublishAot=false", "-p:PublishReadyToRun=true"],
    "jit": ["-p:PublishAot=false"],
}


def publish_exporter(work, name, ref, mode):
    """Publishes the exporter (of the worktree, or of git REF) into WORK/NAME; returns the command that runs it."""
    exporter = work / name
    source = ROOT
    temp_tree = None
    if ref:
        # A plain export of that commit's files (no git worktree is registered).
        temp_tree = work / f"{name}-tree"
        temp_tree.mkdir()
        archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", ref], stdout=subprocess.PIPE)
        sh(["tar", "-x", "-C", str(temp_tree)], stdin=archive.stdout)
        if archive.wait() != 0:
            raise SystemExit(f"git archive {ref} failed")
        source = temp_tree
    log(f"publishing the exporter ({ref or 'working tree'}, {mode}) ...")
    sh(["dotnet", "publish", str(source / "src/DifyUsageExporter"), "-c", "Release", "-o", str(exporter), "-v", "q", "-nologo", *PUBLISH_ARGS[mode]], stdout=subprocess.DEVNULL)
    if temp_tree:
        shutil.rmtree(temp_tree, ignore_errors=True)
    return [str(exporter / "dify-usage-exporter")] if mode == "native" else ["dotnet", str(exporter / "dify-usage-exporter.dll")]


def publish_simulators(work):
    log("publishing the simulators ...")
    sims = work / "sims"
    sh(["dotnet", "publish", str(ROOT / "tests/Simulators"), "-c", "Release", "-o", str(sims), "-v", "q", "-nologo"], stdout=subprocess.DEVNULL)
    return sims / "Simulators.dll"


class Server:
    """A simulator process; started and stopped by this script only."""

    def __init__(self, sims, work, name, args, ready):
        self.out = work / f"{name}.log"
        self.handle = open(self.out, "w")
        self.process = subprocess.Popen(["dotnet", str(sims), *args], stdout=self.handle, stderr=subprocess.STDOUT)
        deadline = time.time() + 1800
        while ready not in self.out.read_text():
            if self.process.poll() is not None or time.time() > deadline:
                raise SystemExit(f"simulator {name} did not start:\n{self.out.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.handle.close()


def get(url, method="GET"):
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def get_text(url):
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read().decode()


class Dify:
    def __init__(self, sims, work, name, port, generator, latency_ms, extra=()):
        self.url = f"http://127.0.0.1:{port}"
        self.sims = sims
        self.work = work
        # With --record-requests the simulator keeps every GET; cycle_pair saves a full run's for replay().
        self.records = "--record-requests" in extra
        self.recorded = ""
        self.server = Server(sims, work, name, ["dify", "--port", str(port), "--latency-ms", str(latency_ms), *generator, *extra], "Press Ctrl+C")
        self.stats = get(self.url + "/_sim/stats")
        self.events = self.stats["events"]
        self.lower_bound = self.stats["lower_bound"]
        self.truth = get(self.url + "/_sim/truth")["rows"]
        self.latency_ms = latency_ms
        days = sorted(r["usage_date"] for r in self.truth)
        self.window = (days[0], days[-1]) if days else ("2026-03-01", "2026-03-01")


def replay(dify, concurrency, label):
    """The last run's GETs again from `Simulators replay`, a client that only sends them and parses the
    answers (the floor any client pays on this machine and simulator); its wall, CPU and the in-flight timeline."""
    requests = dify.work / "requests.txt"
    requests.write_text(dify.recorded)
    get(dify.url + "/_sim/reset", "POST")
    result = subprocess.run(["dotnet", str(dify.sims), "replay", "--url", dify.url, "--requests", str(requests), "--concurrency", str(concurrency), "--warmup", "1"], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"\nreplay failed in {label} (exit {result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    run = json.loads(result.stdout.strip().splitlines()[-1])
    stats = get(dify.url + "/_sim/stats")
    run["dify_busy_s"] = stats.get("busy_seconds", 0)
    run["mean_in_flight"] = stats.get("mean_in_flight", 0)
    run["load"] = os.getloadavg()[0]
    log(f"  {label} replay: {run['wall_s']:.2f} s ({run['mean_in_flight']:.1f} in flight), {run['requests']} requests, CPU {run['cpu_s']:.2f} s")
    return run


def check_truth(dify, meter_url, tenant, label):
    """Fails loudly unless API_Meter holds exactly the simulator's truth for this run's tenant."""
    problem = truth_difference(dify, meter_url, tenant, label)
    if problem:
        raise SystemExit(problem)


def truth_difference(dify, meter_url, tenant, label):
    """None when API_Meter holds exactly the simulator's truth for this run's tenant, else what differs."""
    rows = [r for r in get(meter_url + "/_sim/rows") if r["tenant_id"] == tenant]
    held = {(r["usage_date"], r["provider"], r["model"]): (r["input_tokens"], r["output_tokens"], r["request_count"], Decimal(str(r["cost_actual"]))) for r in rows}
    want = {(t["usage_date"], t["provider"], t["model"]): (t["input_tokens"], t["output_tokens"], t["request_count"], Decimal(t["cost"])) for t in dify.truth}
    if held != want:
        missing = sorted(set(want) - set(held))[:5]
        extra = sorted(set(held) - set(want))[:5]
        wrong_all = [(k, held[k], want[k]) for k in sorted(set(held) & set(want)) if held[k] != want[k]]
        short = sum(w[2][2] - w[1][2] for w in wrong_all)
        return (f"\nTOTALS DIFFER FROM THE SIMULATOR'S TRUTH in {label}: {len(wrong_all)} wrong rows ({short} requests short in all), "
                f"missing {missing}, extra {extra}, wrong (held, truth) {wrong_all[:5]}")
    return None


class Exporter:
    counter = 0  # shared: every run gets its own API_Meter tenant

    def __init__(self, name, dll, work, meter_url):
        self.name = name
        self.dll = dll
        self.work = work
        self.meter_url = meter_url

    def env(self, dify, data_dir, tenant, concurrency):
        env = {
            "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "DOTNET_NOLOGO": "1", "ENV_FILE": "/dev/null",
            "DIFY_API_BASE_URL": dify.url, "DIFY_EMAIL": "ops@example.com", "DIFY_PASSWORD": "Sim-Password-1!",
            "EXTERNAL_API_URL": self.meter_url + "/api/integrations/dify/usage-data/receive", "EXTERNAL_API_TOKEN": TOKEN,
            "API_METER_TENANT_ID": tenant, "DATA_DIR": str(data_dir), "LOG_LEVEL": "warn", "HEALTHCHECK_ENABLED": "false",
            "DIFY_FETCH_PERIOD": "custom", "DIFY_FETCH_START_DATE": dify.window[0], "DIFY_FETCH_END_DATE": dify.window[1], "DIFY_LOOKBACK_DAYS": "0",
        }
        if concurrency:
            env["DIFY_FETCH_CONCURRENCY"] = str(concurrency)
        return env

    def database_env(self, dify, data_dir, tenant, database_url):
        """The database source only: no console settings, so nothing (not even reconcile) reads the console."""
        env = self.env(dify, data_dir, tenant, None)
        for name in ("DIFY_API_BASE_URL", "DIFY_EMAIL", "DIFY_PASSWORD"):
            del env[name]
        env["DIFY_SOURCE"] = "database"
        env["DIFY_DATABASE_URL"] = database_url
        return env

    def source_run(self, dify, source, database_url, label):
        """One full `run --once` of the console or the database source into a fresh DATA_DIR; the truth check's result is kept, not raised."""
        Exporter.counter += 1
        tenant = f"00000000-0000-4000-8000-{Exporter.counter:012d}"
        data_dir = Path(tempfile.mkdtemp(dir=self.work, prefix="data-"))
        env = self.database_env(dify, data_dir, tenant, database_url) if source == "database" else self.env(dify, data_dir, tenant, None)
        get(dify.url + "/_sim/reset", "POST")
        run = self.run(["run", "--once"], env, label)
        run["requests"] = get(dify.url + "/_sim/stats")["requests_served"]
        run["truth_difference"] = truth_difference(dify, self.meter_url, tenant, label)
        shutil.rmtree(data_dir, ignore_errors=True)
        return run

    def run(self, args, env, label):
        timing = self.work / "time.txt"
        started = time.monotonic()
        result = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(timing), *self.dll, *args], env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        if result.returncode != 0:
            raise SystemExit(f"\nexporter {' '.join(args)} failed in {label} (exit {result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        _, user, system, rss_kb = timing.read_text().split()[-4:]
        return {"wall_s": wall, "cpu_s": float(user) + float(system), "rss_mib": int(rss_kb) / 1024, "load": os.getloadavg()[0]}

    def cycle_pair(self, dify, concurrency, label, with_rerun):
        """A full `run --once` into a fresh DATA_DIR (checked against the truth), then optionally a re-run without new data."""
        Exporter.counter += 1
        tenant = f"00000000-0000-4000-8000-{Exporter.counter:012d}"
        data_dir = Path(tempfile.mkdtemp(dir=self.work, prefix="data-"))
        env = self.env(dify, data_dir, tenant, concurrency)
        get(dify.url + "/_sim/reset", "POST")
        full = self.run(["run", "--once"], env, label)
        stats = get(dify.url + "/_sim/stats")
        full["requests"] = stats["requests_served"]
        if dify.records:
            dify.recorded = get_text(dify.url + "/_sim/requests")
        # How well the run kept requests in flight (the simulator's timeline): the time with at least
        # one Dify request in flight and the mean number in flight over it.
        full["dify_busy_s"] = stats.get("busy_seconds", 0)
        full["mean_in_flight"] = stats.get("mean_in_flight", 0)
        check_truth(dify, self.meter_url, tenant, label)
        rerun = None
        if with_rerun:
            get(dify.url + "/_sim/reset", "POST")
            rerun = self.run(["run", "--once"], env, label + " re-run")
            rerun["requests"] = get(dify.url + "/_sim/stats")["requests_served"]
            check_truth(dify, self.meter_url, tenant, label + " re-run")
        shutil.rmtree(data_dir, ignore_errors=True)
        return full, rerun


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def labelled(exporter, exporters, text):
    return text if len(exporters) == 1 else f"{text} [{exporter.name}]"


def ratio_row(rows, label, ours, base, keys):
    """One table row: ours / baseline for each (name, key) measured in the same benchmark run."""
    rows.append((f"{label} ours/baseline", "", *[f"{name} {median(ours, key) / median(base, key):.2f}x" for name, key in keys], "", "")[:6])


def sweep(exporters, dify, name, repeat, levels, results, rows):
    measured = {}
    for level in levels:
        label = f"{name} c={level or 'default'}"
        for i in range(repeat):
            for ex in exporters:  # alternate run by run: both see the same load
                full, _ = ex.cycle_pair(dify, level, f"{labelled(ex, exporters, label)} #{i + 1}", with_rerun=False)
                measured.setdefault((ex.name, level), []).append(full)
                log(f"  {labelled(ex, exporters, label)} #{i + 1}: {full['wall_s']:.2f} s (Dify busy {full['dify_busy_s']:.2f} s, {full['mean_in_flight']:.1f} in flight), {full['requests']} requests, CPU {full['cpu_s']:.2f} s, load {full['load']:.1f}")
            measured.setdefault(("replay", level), []).append(replay(dify, level or 16, f"{label} #{i + 1}"))
    for ex in exporters:
        base = median(measured[(ex.name, 1)], "wall_s") if 1 in levels else None
        for level in levels:
            runs = measured[(ex.name, level)]
            wall = median(runs, "wall_s")
            requests = median(runs, "requests")
            minimum = dify.lower_bound * dify.latency_ms / 1000 / (level or 16)
            floor = measured[("replay", level)]
            entry = {
                "case": name, "exporter": ex.name, "concurrency": level or "default (ceiling 16)", "events": dify.events, "latency_ms": dify.latency_ms,
                "lower_bound_requests": dify.lower_bound, "requests": requests, "requests_vs_lower_bound": requests / dify.lower_bound,
                "wall_s": wall, "minimum_wall_s": minimum, "wall_vs_minimum": wall / minimum, "speedup_vs_c1": base / wall if base else None,
                "cpu_s": median(runs, "cpu_s"), "cpu_ms_per_1000_events": median(runs, "cpu_s") * 1000 / dify.events * 1000,
                "dify_busy_s": median(runs, "dify_busy_s"), "mean_in_flight": median(runs, "mean_in_flight"),
                "replay_wall_s": median(floor, "wall_s"), "wall_vs_replay": wall / median(floor, "wall_s"),
                "replay_mean_in_flight": median(floor, "mean_in_flight"), "replay_vs_minimum": median(floor, "wall_s") / minimum,
                "load_average": median(runs, "load"), "runs": runs, "replays": floor,
            }
            results.append(entry)
            rows.append((labelled(ex, exporters, f"{name} c={level or 'default'}"), f"{dify.events:,}", f"{wall:.2f} s (Dify busy {entry['dify_busy_s']:.2f} s, {entry['mean_in_flight']:.1f} in flight)",
                         f"{entry['speedup_vs_c1']:.2f}x vs c=1" if base else f"CPU {entry['cpu_s']:.2f} s",
                         f"{requests:.0f} / {dify.lower_bound} = {entry['requests_vs_lower_bound']:.3f}", f"{entry['wall_vs_minimum']:.2f}x min wall ({entry['wall_vs_replay']:.2f}x replay, itself {entry['replay_vs_minimum']:.2f}x), load {entry['load_average']:.0f}"))
    if len(exporters) == 2:
        for level in levels:
            ratio_row(rows, f"{name} c={level or 'default'}", measured[(exporters[0].name, level)], measured[(exporters[1].name, level)], [("wall", "wall_s"), ("CPU", "cpu_s")])


def sizes(exporters, dify, name, repeat, results, rows):
    measured = {}
    for i in range(repeat):
        for ex in exporters:
            full, rerun = ex.cycle_pair(dify, None, f"{labelled(ex, exporters, name)} #{i + 1}", with_rerun=True)
            measured.setdefault(ex.name, ([], []))
            measured[ex.name][0].append(full)
            measured[ex.name][1].append(rerun)
            log(f"  {labelled(ex, exporters, name)} #{i + 1}: full {full['wall_s']:.2f} s, CPU {full['cpu_s']:.2f} s, RSS {full['rss_mib']:.1f} MiB; "
                f"re-run {rerun['wall_s']:.2f} s, CPU {rerun['cpu_s']:.2f} s, {rerun['requests']} requests; load {full['load']:.1f}")
        if dify.records:
            measured.setdefault("replay", []).append(replay(dify, 16, f"{name} #{i + 1}"))
    for ex in exporters:
        runs, reruns = measured[ex.name]
        wall = median(runs, "wall_s")
        entry = {
            "case": name, "exporter": ex.name, "events": dify.events, "wall_s": wall, "cpu_s": median(runs, "cpu_s"),
            "cpu_ms_per_1000_events": median(runs, "cpu_s") * 1000 / dify.events * 1000, "peak_rss_mib": median(runs, "rss_mib"),
            "max_peak_rss_mib": max(r["rss_mib"] for r in runs), "rerun_wall_s": median(reruns, "wall_s"),
            "rerun_percent_of_full": median(reruns, "wall_s") / wall * 100, "rerun_requests": median(reruns, "requests"),
            "rerun_cpu_s": median(reruns, "cpu_s"), "rerun_cpu_percent_of_full": median(reruns, "cpu_s") / median(runs, "cpu_s") * 100,
            "load_average": median(runs, "load"), "runs": runs, "reruns": reruns,
        }
        if "replay" in measured:
            entry["replay_cpu_ms_per_1000_events"] = median(measured["replay"], "cpu_s") * 1000 / dify.events * 1000
            entry["replays"] = measured["replay"]
        results.append(entry)
        rows.append((labelled(ex, exporters, name), f"{dify.events:,}", f"{wall:.2f} s, CPU {entry['cpu_s']:.2f} s", f"{entry['cpu_ms_per_1000_events']:.0f} CPU ms/1k events" + (f" (replay {entry['replay_cpu_ms_per_1000_events']:.0f})" if "replay_cpu_ms_per_1000_events" in entry else ""),
                     f"peak RSS {entry['peak_rss_mib']:.1f} MiB (max {entry['max_peak_rss_mib']:.1f})",
                     f"re-run {entry['rerun_wall_s']:.2f} s = {entry['rerun_percent_of_full']:.1f} % wall, CPU {entry['rerun_cpu_s']:.2f} s = {entry['rerun_cpu_percent_of_full']:.1f} % ({entry['rerun_requests']:.0f} req), load {entry['load_average']:.0f}"))
    if len(exporters) == 2:
        ours, base = measured[exporters[0].name][0], measured[exporters[1].name][0]
        ratio_row(rows, name, ours, base, [("wall", "wall_s"), ("CPU", "cpu_s"), ("peak RSS", "rss_mib")])


def startup(exporters, dify, repeat, results, rows):
    measured = {}
    envs = {ex.name: ex.env(dify, Path(tempfile.mkdtemp(dir=ex.work, prefix="data-")), f"00000000-0000-4000-8000-99999999999{k}", None) for k, ex in enumerate(exporters)}
    for ex in exporters:
        ex.run(["run", "--once"], envs[ex.name], "startup full run")
    for _ in range(max(repeat, 5)):
        for ex in exporters:
            measured.setdefault((ex.name, "check"), []).append(ex.run(["config", "--check"], envs[ex.name], "config --check"))
            measured.setdefault((ex.name, "noop"), []).append(ex.run(["run", "--once"], envs[ex.name], "startup no-op run"))
    for ex in exporters:
        checks, noops = measured[(ex.name, "check")], measured[(ex.name, "noop")]
        entry = {"case": "startup", "exporter": ex.name, "config_check_ms": median(checks, "wall_s") * 1000, "config_check_cpu_ms": median(checks, "cpu_s") * 1000,
                 "noop_run_once_ms": median(noops, "wall_s") * 1000, "noop_run_once_cpu_ms": median(noops, "cpu_s") * 1000,
                 "noop_events": dify.events, "load_average": median(checks, "load"), "config_check_runs": checks, "noop_runs": noops}
        results.append(entry)
        rows.append((labelled(ex, exporters, "startup"), f"{dify.events:,}", f"config --check {entry['config_check_ms']:.0f} ms (CPU {entry['config_check_cpu_ms']:.0f})",
                     f"no-op run --once {entry['noop_run_once_ms']:.0f} ms (CPU {entry['noop_run_once_cpu_ms']:.0f})", "", f"load {entry['load_average']:.0f}"))
    if len(exporters) == 2:
        for kind, label in (("check", "config --check"), ("noop", "no-op run --once")):
            ratio_row(rows, f"startup {label}", measured[(exporters[0].name, kind)], measured[(exporters[1].name, kind)], [("wall", "wall_s"), ("CPU", "cpu_s")])


def database_case(exporter, dify, name, repeat, database_url, results, rows, differences):
    """Console vs database source on the same workspace, alternating run by run (same load for both)."""
    measured = {"console": [], "database": []}
    for i in range(repeat):
        for source in ("console", "database"):
            label = f"{name} {source} #{i + 1}"
            run = exporter.source_run(dify, source, database_url, label)
            measured[source].append(run)
            if run["truth_difference"]:
                differences.append(run["truth_difference"])
            log(f"  {label}: {run['wall_s']:.2f} s, CPU {run['cpu_s']:.2f} s, peak RSS {run['rss_mib']:.1f} MiB, "
                f"{run['requests']} console requests, load {run['load']:.1f}, {'TOTALS DIFFER' if run['truth_difference'] else 'totals = truth'}")
    for source, runs in measured.items():
        entry = {
            "case": f"database {name}", "source": source, "events": dify.events, "wall_s": median(runs, "wall_s"), "cpu_s": median(runs, "cpu_s"),
            "cpu_ms_per_1000_events": median(runs, "cpu_s") * 1000 / dify.events * 1000, "peak_rss_mib": median(runs, "rss_mib"),
            "max_peak_rss_mib": max(r["rss_mib"] for r in runs), "console_requests": median(runs, "requests"), "load_average": median(runs, "load"),
            "exact_runs": sum(1 for r in runs if not r["truth_difference"]), "runs": runs,
        }
        results.append(entry)
        rows.append((f"{name} {source}", f"{dify.events:,}", f"{entry['wall_s']:.2f} s, CPU {entry['cpu_s']:.2f} s", f"{entry['cpu_ms_per_1000_events']:.0f} CPU ms/1k events",
                     f"peak RSS {entry['peak_rss_mib']:.1f} MiB (max {entry['max_peak_rss_mib']:.1f})",
                     f"{entry['exact_runs']}/{len(runs)} runs = truth, {entry['console_requests']:.0f} console requests, load {entry['load_average']:.0f}"))
    console, database = measured["console"], measured["database"]
    rows.append((f"{name} database/console", "", f"wall {median(database, 'wall_s') / median(console, 'wall_s'):.2f}x",
                 f"CPU {median(database, 'cpu_s') / median(console, 'cpu_s'):.2f}x", f"peak RSS {median(database, 'rss_mib') / median(console, 'rss_mib'):.2f}x", ""))


def postgres(work, server):
    """The given server, or a throwaway cluster (tests/postgres-cluster.sh); returns (connection string, stop)."""
    if server:
        return server, lambda: None
    directory = Path(tempfile.gettempdir()) / f"due-bench-pg-{os.getpid()}"
    log("starting a throwaway PostgreSQL (tests/postgres-cluster.sh) ...")
    script = str(ROOT / "tests/postgres-cluster.sh")
    connection = subprocess.run(["bash", script, "start", str(directory)], check=True, capture_output=True, text=True).stdout.strip()
    return connection, lambda: subprocess.run(["bash", script, "stop", str(directory)], capture_output=True)


def with_database(connection, name):
    """The connection string with its Database replaced by NAME."""
    parts = [p for p in connection.split(";") if p and not p.lower().startswith("database=")]
    return ";".join(parts + [f"Database={name}"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--million", action="store_true", help="also the ~1M-event size case (minutes; the simulator holds ~600 MB)")
    parser.add_argument("--only", default="sweep,chatflow,size,startup")
    parser.add_argument("--levels", default="1,4,8,16,default", help="concurrency levels of the sweep and chatflow cases")
    parser.add_argument("--exporter-ref", help="git ref whose exporter to benchmark (default: the working tree)")
    parser.add_argument("--baseline", help="git ref of a second exporter run alternately in the same benchmark (before/after)")
    parser.add_argument("--publish", choices=sorted(PUBLISH_ARGS), default="native", help="how the exporter is published (default native: Native AOT, as the Dockerfile)")
    parser.add_argument("--baseline-publish", choices=sorted(PUBLISH_ARGS), help="how the baseline is published (default: as --publish; ready-to-run for commits before Native AOT)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks/results/performance.json"))
    parser.add_argument("--port", type=int, default=5410)
    parser.add_argument("--database-server", help="PostgreSQL (Npgsql connection string, superuser) for the database case; default: a throwaway cluster")
    args = parser.parse_args()
    cases = set(args.only.split(","))
    levels = [None if level == "default" else int(level) for level in args.levels.split(",")]
    work = Path(tempfile.mkdtemp(prefix="due-bench-"))
    servers = []
    results, rows = [], []
    differences = []
    stop_postgres = lambda: None
    try:
        meter_url = f"http://127.0.0.1:{args.port}"
        exporters = [Exporter("ours", publish_exporter(work, "exporter", args.exporter_ref, args.publish), work, meter_url)]
        if args.baseline:
            exporters.append(Exporter("baseline", publish_exporter(work, "baseline", args.baseline, args.baseline_publish or args.publish), work, meter_url))
        sims = publish_simulators(work)
        meter = Server(sims, work, "meter", ["meter", "--port", str(args.port), "--token", TOKEN], "listening")
        servers.append(meter)
        port = args.port + 1

        def dify(name, generator, latency, extra=()):
            nonlocal port
            port += 1
            log(f"starting the Dify simulator: {name} ({' '.join(generator)}, {latency} ms{', writing its tables' if '--database' in extra else ''}) ...")
            d = Dify(sims, work, name, port, generator, latency, extra)
            servers.append(d.server)
            log(f"  {d.events:,} events, request lower bound {d.lower_bound:,}")
            return d

        def done(d):
            d.server.stop()
            servers.remove(d.server)

        if "sweep" in cases:
            d = dify("sweep", ["--seed", "11", "--conversations", "100", "--runs", "150"], 20, RECORD)
            sweep(exporters, d, "sweep", args.repeat, levels, results, rows)
            done(d)
        if "chatflow" in cases:
            d = dify("chatflow", ["--seed", "12", "--modes", "advanced-chat", "--apps", "1", "--conversations", "3", "--messages", "1000", "--debug-runs", "0", "--start", "2025-11-01", "--end", "2026-03-15"], 20, RECORD)
            sweep(exporters, d, "chatflow", args.repeat, levels, results, rows)
            done(d)
        if "size" in cases or "startup" in cases:
            d = dify("10k", ["--seed", "13", "--conversations", "300", "--runs", "450"], 0, RECORD)
            if "size" in cases:
                sizes(exporters, d, "size 10k", args.repeat, results, rows)
            if "startup" in cases:
                startup(exporters, d, args.repeat, results, rows)
            done(d)
        if "size" in cases:
            d = dify("100k", ["--seed", "14", "--conversations", "3000", "--runs", "4500", "--compact"], 0, RECORD)
            sizes(exporters, d, "size 100k", args.repeat, results, rows)
            done(d)
            if args.million:
                d = dify("1M", ["--seed", "15", "--conversations", "30000", "--runs", "45000", "--compact"], 0)
                sizes(exporters, d, "size 1M", 1, results, rows)
                done(d)
        if "database" in cases:
            # The same generator arguments as the size case: 100k with --repeat runs, 1M once.
            server, stop_postgres = postgres(work, args.database_server)
            sizes_to_run = [("100k", ["--seed", "14", "--conversations", "3000", "--runs", "4500", "--compact"], args.repeat)]
            if args.million:
                sizes_to_run.append(("1M", ["--seed", "15", "--conversations", "30000", "--runs", "45000", "--compact"], 1))
            for name, generator, repeat in sizes_to_run:
                database_url = with_database(server, f"dify_bench_{name.lower()}_{os.getpid()}")
                d = dify(f"database {name}", generator, 0, ["--database", database_url])
                database_case(exporters[0], d, name, repeat, database_url, results, rows, differences)
                done(d)
    finally:
        for server in servers:
            server.stop()
        stop_postgres()
        shutil.rmtree(work, ignore_errors=True)

    def rev(ref):
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", ref], capture_output=True, text=True).stdout.strip()

    commit = rev(args.exporter_ref or "HEAD")
    dirty = "" if args.exporter_ref or not subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"], capture_output=True, text=True).stdout.strip() else " + uncommitted changes"
    baseline = rev(args.baseline) if args.baseline else None
    load = os.getloadavg()
    print(f"\nexporter {commit}{dirty} ({args.publish}){f' vs baseline {baseline}' if baseline else ''}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} CPUs, load average now {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; medians of {args.repeat} runs")
    widths = [max(len(str(r[i])) for r in rows) for i in range(6)]
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"commit": commit + dirty, "baseline": baseline, "publish": args.publish, "baseline_publish": (args.baseline_publish or args.publish) if baseline else None, "load_average_at_end": load, "repeat": args.repeat, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": results}, indent=2))
    print(f"JSON: {out}")
    if differences:
        print("\n".join(differences))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
