"""The benchmark harness: is pipeline fast enough at a real team's scale?

    python bench/run.py [--manifests 10000] [--runs 3] [--apply-actions 1000]

Generates a content repository of N manifests (realistic templates, includes,
references within and across files, ten identities on five networks), then measures,
each a median over runs:

- validate and plan, cold (no cache) and warm (nothing changed since the last run), as
  ratios to the time PyYAML's C loader (CSafeLoader) takes merely to parse the files;
- apply of 1,000 actions over 10 identities against the sandbox answering in 50 ms, as
  a ratio to the ideal N x latency / parallelism;
- the cost of recording one result with 10 vs 10,000 actions in the state;
- the peak memory of plan;
- the preview (`pipeline preview`: a card per action, the calendar) of the same
  repository, as a ratio to the parse, and the size of its largest page;
- `pipeline --help` and `--version` against `python -c "import click"`.

It prints one table, checks every target, and writes bench/results.json. It is a
script, not a test: timings on a shared machine belong here, not in the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
IDENTITIES = [  # ten accounts on five networks
    ("acme-twitter", "twitter"), ("acme-support-twitter", "twitter"), ("acme-dev-twitter", "twitter"),
    ("acme-facebook", "facebook"), ("acme-fr-facebook", "facebook"), ("acme-linkedin", "linkedin"),
    ("acme-cto-linkedin", "linkedin"), ("acme-pinterest", "pinterest"), ("acme-youtube", "youtube"),
    ("acme-edu-youtube", "youtube"),
]


def token(i: int) -> str:
    return f"{i:08x}-1749-4cc1-988f-d6963f3b1baa"


def config(extra: str = "") -> str:
    lines = ["site: sandbox", "media_base_url: https://acme.github.io/content", "identities:"]
    for i, (name, network) in enumerate(IDENTITIES):
        lines += [f"  {name}:", f"    network: {network}", f"    token: {token(i)}"]
    lines += ["vars:", "  brand: Acme", "  links:", "    shop: https://acme.example/shop",
              "    blog: https://acme.example/blog", "  hashtags: '#acme #launch'"]
    return "\n".join(lines) + "\n" + extra


MANIFEST = """# yaml-language-server: $schema=../../schemas/manifest.schema.json
vars:
  product: {product}
  slug: {slug}
actions:
  hero:
    type: twitter.picture
    identity: {twitter}
    url: https://cdn.acme.example/{slug}/hero.png
    description: The {{{{ product }}}} up close
  tweet:
    type: twitter.post
    identity: {twitter}
    message: "{{{{ product }}}} is here! {{{{ links.shop }}}}/{{{{ slug }}}} {{% include 'signature.j2' %}}"
    attachments:
      - ref: hero
  page:
    type: facebook.page.post
    identity: {facebook}
    page: "1083749827364{n5}"
    message: |
      {{{{ product }}}}: {{{{ links.blog }}}}/{{{{ slug }}}}
      {{% include 'footer.j2' %}}
    link: "{{{{ links.shop }}}}/{{{{ slug }}}}"
{cross}"""

CROSS = """  recap:
    type: twitter.post
    identity: {twitter}
    message: "Still loving the {{{{ product }}}}? Week {week} recap."
    attachments:
      - ref: {previous}/hero
"""


def generate(root: Path, count: int) -> None:
    """A content repository of ``count`` manifests, every fifth one referring to another."""
    (root / "content/templates").mkdir(parents=True)
    (root / "pipeline.yaml").write_text(config())
    (root / "content/templates/signature.j2").write_text("{{ hashtags }} #{{ brand }}\n")
    (root / "content/templates/footer.j2").write_text("-- the {{ brand }} team, {{ links.shop }}\n")
    twitters = [n for n, net in IDENTITIES if net == "twitter"]
    facebooks = [n for n, net in IDENTITIES if net == "facebook"]
    for i in range(count):
        folder = root / "content/posts" / f"{2026 + i // 3650}" / f"{i % 12 + 1:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        twitter = twitters[i % len(twitters)]
        cross = ""
        if i % 5 == 4:
            prev = i - 1
            prev_folder = f"posts/{2026 + prev // 3650}/{prev % 12 + 1:02d}"
            if twitters[prev % len(twitters)] == twitter:
                cross = CROSS.format(twitter=twitter, week=i // 7, previous=f"{prev_folder}/p{prev:05d}")
        (folder / f"p{i:05d}.yaml").write_text(MANIFEST.format(
            product=f"Widget {i}", slug=f"widget-{i}", twitter=twitter,
            facebook=facebooks[i % len(facebooks)], n5=f"{i % 100:02d}", cross=cross))


def publish_everything(root: Path) -> int:
    """Record every action of ``root`` as published in its (sandbox) state, as a year of
    applies would have: a steady-state plan then has nothing, or little, to do."""
    from pipeline import app
    from pipeline.model.state import Record

    loaded = app.load(root, {})
    store = loaded.store()
    state = store.load()
    for address, action in loaded.graph.actions.items():
        state.resources[address] = Record(
            type=action.type, identity=action.identity, digest=action.digest, status="published",
            result={f"{action.endpoint.object}_id": str(abs(hash(address)))},
            published_at="2026-06-01T09:00:00+00:00")
    store.save(state)
    return len(state.resources)


def median_time(runs: int, fn: Callable[[], Any], before: Callable[[], Any] = lambda: None) -> float:
    times = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def pipeline(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "pipeline", "--project", str(root), *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})
    if done.returncode not in (0, 2):
        raise SystemExit(f"pipeline {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def peak_memory_mb(root: Path, *args: str) -> float:
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "--project", str(root), *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_maxrss / 1024  # kilobytes on Linux


def csafe_parse(root: Path) -> None:
    import yaml

    for path in sorted((root / "content").rglob("*.yaml")):
        yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def bench_preview(root: Path, out: Path, runs: int, parse: float) -> dict[str, float]:
    """The whole preview of the repository (its compile cache warm, as after a plan): the
    time to write it, and how large its pages are."""
    seconds = median_time(runs, lambda: pipeline(root, "preview", "--out", str(out)))
    pages = [p.stat().st_size for p in out.rglob("*.html")]
    return {"seconds": seconds, "ratio": seconds / parse, "pages": len(pages),
            "largest_page_kb": max(pages) / 1024, "site_mb": sum(p.stat().st_size for p in out.rglob("*")
                                                                 if p.is_file()) / 2**20}


def bench_apply(actions: int, latency: float, parallelism: int, work: Path) -> dict[str, float]:
    """Apply ``actions`` tweets and posts over the ten identities against a slow sandbox."""
    from pipeline import app

    root = work / "apply"
    (root / "content").mkdir(parents=True)
    (root / "pipeline.yaml").write_text(config())
    per_file = 10
    for f in range(actions // per_file):
        lines = ["actions:"]
        for a in range(per_file):
            n = f * per_file + a
            name, network = IDENTITIES[n % len(IDENTITIES)]
            body = {"twitter": "type: twitter.post\n    message: Update {n}",
                    "facebook": "type: facebook.post\n    message: Update {n}",
                    "linkedin": "type: linkedin.post\n    message: Update {n}",
                    "pinterest": "type: pinterest.board\n    name: Board {n}",
                    "youtube": "type: youtube.playlist\n    title: Playlist {n}"}[network].format(n=n)
            lines.append(f"  a{a}:\n    identity: {name}\n    {body}")
        (root / "content" / f"m{f:04d}.yaml").write_text("\n".join(lines) + "\n")
    # The sandbox runs in a process of its own, as a remote API would: sharing this
    # process's interpreter lock with the executor would measure contention, not apply.
    env = {"ONEALL_PUBLIC_KEY": "bench-public", "ONEALL_PRIVATE_KEY": "bench-private-key"}
    server = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--project", str(root), "sandbox", "serve", "--port", "0",
         "--latency", str(latency), "--db", str(work / "apply-sandbox.jsonl")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **env})
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        env["ONEALL_API_BASE"] = first.split(" on ", 1)[1].split(" ", 1)[0]
        loaded = app.load(root, env)
        started = time.perf_counter()
        applied = app.apply(loaded, confirm=lambda plan: True, parallelism=parallelism)
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert applied.result is not None and len(applied.result.published) == actions, applied.result
    ideal = actions * latency / parallelism
    return {"seconds": elapsed, "ideal_seconds": ideal, "ratio_to_ideal": ideal / elapsed}


def bench_record(work: Path, repeat: int = 300) -> dict[str, float]:
    """Recording one result with a small and a large state: a journal append either way."""
    from pipeline.model.state import Record
    from pipeline.apply.store import StateStore
    from pipeline.model.journal import Published

    stores = {}
    for size in (10, 10_000):
        store = StateStore(work / f"record-{size}" / "state.json", "bench")
        state = store.load()
        for i in range(size):
            state.resources[f"posts/p{i}/tweet"] = Record(
                type="twitter.post", identity="acme", digest="sha256:x", status="published",
                result={"post_id": str(i), "post_location": f"https://twitter.com/acme/status/{i}"})
        store.save(state)
        stores[size] = (store, state)

    def record_many(size: int) -> Callable[[], None]:
        store, state = stores[size]

        def run() -> None:
            for i in range(repeat):
                store.commit(state, Published(
                    f"new/{i}", type="twitter.post", identity="acme", digest="sha256:y",
                    result={"post_id": str(i)}, at="2026-12-01T09:00:00+00:00"))
        return run

    # Each record is an fsynced append, whose time wanders with the disk: the two sizes
    # are measured in turns, many times, so both see the same disk.
    samples: dict[int, list[float]] = {10: [], 10_000: []}
    for _ in range(7):
        for size in samples:
            samples[size].append(median_time(1, record_many(size)) / repeat)
    costs = {size: statistics.median(times) for size, times in samples.items()}
    return {"seconds_at_10": costs[10], "seconds_at_10000": costs[10_000],
            "ratio": costs[10_000] / costs[10]}


def cli_start(runs: int) -> dict[str, float]:
    def run(*cmd: str) -> Callable[[], Any]:
        return lambda: subprocess.run(cmd, capture_output=True, check=True)

    click = median_time(runs, run(sys.executable, "-c", "import click"))
    help_ = median_time(runs, run(sys.executable, "-m", "pipeline", "--help"))
    version = median_time(runs, run(sys.executable, "-m", "pipeline", "--version"))
    return {"import_click_seconds": click, "help_seconds": help_, "version_seconds": version,
            "help_ratio": help_ / click, "version_ratio": version / click}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifests", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--apply-actions", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    try:
        root = work / "repo"
        print(f"generating {args.manifests} manifests in {root} ...", file=sys.stderr)
        generate(root, args.manifests)
        cache = root / ".pipeline" / "cache"
        drop_cache = lambda: shutil.rmtree(cache, ignore_errors=True)  # noqa: E731
        print("recording them as published ...", file=sys.stderr)
        recorded = publish_everything(root)
        print(f"measuring ({recorded} actions in the state) ...", file=sys.stderr)
        parse = median_time(args.runs, lambda: csafe_parse(root))
        results: dict[str, Any] = {"parse_csafe_seconds": parse, "actions_in_state": recorded}
        for command in ("validate", "plan"):
            cold = median_time(args.runs, lambda c=command: pipeline(root, c), before=drop_cache)  # type: ignore[misc]
            pipeline(root, command)
            warm = median_time(args.runs, lambda c=command: pipeline(root, c))  # type: ignore[misc]
            results[f"{command}_cold_seconds"], results[f"{command}_warm_seconds"] = cold, warm
            results[f"{command}_cold_ratio"], results[f"{command}_warm_ratio"] = cold / parse, warm / parse
        results["preview"] = bench_preview(root, work / "preview", args.runs, parse)
        drop_cache()
        results["plan_peak_memory_mb"] = peak_memory_mb(root, "plan")
        results["apply"] = bench_apply(args.apply_actions, args.latency, args.parallelism, work)
        results["record"] = bench_record(work)
        results["cli"] = cli_start(max(args.runs, 5))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    targets = [
        ("cold plan / CSafeLoader parse", results["plan_cold_ratio"], "<=", 4.0),
        ("warm plan / CSafeLoader parse", results["plan_warm_ratio"], "<=", 0.5),
        ("apply throughput / ideal", results["apply"]["ratio_to_ideal"], ">=", 0.8),
        ("record at 10,000 / at 10", results["record"]["ratio"], "<=", 1.25),
        ("plan peak memory (MB)", results["plan_peak_memory_mb"], "<=", 300.0),
        ("preview / CSafeLoader parse", results["preview"]["ratio"], "<=", 5.0),
        ("preview's largest page (KB)", results["preview"]["largest_page_kb"], "<=", 1024.0),
        ("pipeline --help / import click", results["cli"]["help_ratio"], "<=", 2.0),
        ("pipeline --version / import click", results["cli"]["version_ratio"], "<=", 2.0),
    ]
    rows = [
        ("CSafeLoader parse of the manifests", f"{parse:.2f} s", ""),
        ("validate cold / warm", f"{results['validate_cold_seconds']:.2f} s / {results['validate_warm_seconds']:.2f} s",
         f"{results['validate_cold_ratio']:.2f}x / {results['validate_warm_ratio']:.2f}x parse"),
        ("plan cold / warm", f"{results['plan_cold_seconds']:.2f} s / {results['plan_warm_seconds']:.2f} s",
         f"{results['plan_cold_ratio']:.2f}x / {results['plan_warm_ratio']:.2f}x parse"),
        (f"apply {args.apply_actions} actions, {args.latency * 1000:.0f} ms, x{args.parallelism}",
         f"{results['apply']['seconds']:.2f} s (ideal {results['apply']['ideal_seconds']:.2f} s)",
         f"{results['apply']['ratio_to_ideal']:.0%} of ideal"),
        ("record one result, 10 vs 10,000 in state",
         f"{results['record']['seconds_at_10'] * 1e6:.0f} us / {results['record']['seconds_at_10000'] * 1e6:.0f} us",
         f"{results['record']['ratio']:.2f}x"),
        ("plan peak memory", f"{results['plan_peak_memory_mb']:.0f} MB", ""),
        ("preview (cards, calendar, iCalendar)",
         f"{results['preview']['seconds']:.2f} s, {results['preview']['pages']} pages",
         f"{results['preview']['ratio']:.2f}x parse, largest page {results['preview']['largest_page_kb']:.0f} KB"),
        ("--help / --version vs import click",
         f"{results['cli']['help_seconds']:.3f} s / {results['cli']['version_seconds']:.3f} s",
         f"{results['cli']['help_ratio']:.2f}x / {results['cli']['version_ratio']:.2f}x"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\npipeline benchmark: {args.manifests} manifests, median of {args.runs} runs, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    for name, value, ratio in rows:
        print(f"  {name:<{width}}  {value:<28} {ratio}")
    print("\ntargets:")
    met = True
    for name, value, op, bound in targets:
        ok = value <= bound if op == "<=" else value >= bound
        met &= ok
        print(f"  {'ok  ' if ok else 'MISS'} {name}: {value:.2f} {op} {bound}")
    results["targets"] = [{"name": n, "value": v, "op": o, "bound": b,
                           "met": (v <= b if o == "<=" else v >= b)} for n, v, o, b in targets]
    results["machine"] = {"cores": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform(), "manifests": args.manifests, "runs": args.runs}
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {args.out}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
