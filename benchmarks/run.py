"""`make bench`: the same PyPI workloads against our server and pypiserver, side by side.

Stdlib only (plus what .venv has: gunicorn, twine, pip, and the test fixtures' wheel builder).
pypiserver is installed into its own venv under var/bench/peer-venv, never into the project.
Every number printed comes from this run; nothing is hard-coded. Results: var/bench/results.json.
See benchmarks/README.md for what each workload measures and how to read the ratios.
"""

import base64
import datetime
import hashlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

# benchmarks/ is sys.path[0] when this file runs as a script.
from common import (
    BENCH_DIR, ROOT, arguments, VENV_BIN, WORKERS, Server, create_repository, free_port, load, log,
    no_control_socket, page_etags, report, revalidate, row, run, shut_down, start_our_server,
    statuses_off,
)

sys.path.insert(0, str(ROOT))

from tests.fixtures.dists import build_wheel  # noqa: E402

PEER_VENV = BENCH_DIR / "peer-venv"
RESULTS = BENCH_DIR / "results.json"

PROJECTS = [f"bench-pkg-{i:02d}" for i in range(20)]
VERSIONS = [f"1.0.{i}" for i in range(5)]
BIG_PROJECT = "bench-big"
# Random bytes, base64-encoded (76-column lines) into the big wheel's module: a ~50 MB file. The
# fixture builder stores wheel members uncompressed, so the wheel is ~50 MB too.
BIG_MODULE_BYTES = 50_000_000
BIG_RANDOM_BYTES = BIG_MODULE_BYTES * 3 // 4 * 76 // 77
SEED = 20240101

# --- servers ---------------------------------------------------------------------------------

def ensure_peer_venv():
    python = PEER_VENV / "bin" / "python"
    if not (PEER_VENV / "bin" / "pypi-server").exists():
        log(f"creating {PEER_VENV} and installing pypiserver and gunicorn from PyPI")
        shutil.rmtree(PEER_VENV, ignore_errors=True)
        run([sys.executable, "-m", "venv", PEER_VENV])
        run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "pypiserver"])  # anonymous uploads (-a . -P .): passlib is not needed
        # To run pypiserver with the same gunicorn worker model as ours; optional.
        run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "gunicorn"], check=False)
    probe = run([python, "-c",
                 "import importlib.metadata as m, importlib.util as u;"
                 "print(m.version('pypiserver'));"
                 "print(m.version('gunicorn') if u.find_spec('gunicorn') else '');"
                 "print('cached-dir' if u.find_spec('watchdog') else 'simple-dir')"])
    version, gunicorn_version, backend = (probe.stdout.splitlines() + ["", "", ""])[:3]
    return {"version": version, "gunicorn": gunicorn_version, "backend": backend}


def start_ours(tmp):
    server, base, token = start_our_server(tmp)
    create_repository(base, token, {"name": "bench", "format": "pypi", "visibility": "public"})
    return server, {
        "label": "ours",
        "upload_url": f"{base}/repository/bench/",
        "index_url": f"{base}/repository/bench/simple/",
        "username": "__token__",
        "password": token,
    }


def start_peer(tmp, peer_info):
    packages = tmp / "peer-packages"
    packages.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "GUNICORN_CMD_ARGS"}
    if peer_info["gunicorn"]:
        # pypiserver runs gunicorn through bottle's adapter, which reads GUNICORN_CMD_ARGS.
        method = "gunicorn"
        env["GUNICORN_CMD_ARGS"] = " ".join(
            ["--workers", str(WORKERS), "--timeout", "300",
             *no_control_socket(PEER_VENV / "bin" / "gunicorn")])
    else:
        method = "auto"  # bottle's choice: one process (wsgiref unless paste/cherrypy/twisted)
    server = Server(
        "peer (pypiserver)",
        [PEER_VENV / "bin" / "pypi-server", "run", "-p", port, "-i", "127.0.0.1",
         "-P", ".", "-a", ".", "--disable-fallback", "--server", method, "--log-stream", "none",
         packages],
        env, tmp, tmp / "peer.log",
    )
    base = f"http://127.0.0.1:{port}"
    server.wait_ready(base + "/health")
    return server, {
        "label": "peer",
        "method": method,
        "upload_url": f"{base}/",
        "index_url": f"{base}/simple/",
        "username": "bench",
        "password": "bench",
    }


# --- fixtures ---------------------------------------------------------------------------------

def build_fixtures(tmp):
    small = tmp / "wheels"
    small.mkdir()
    for project in PROJECTS:
        for version in VERSIONS:
            build_wheel(small, project, version)
    big_dir = tmp / "big"
    big_dir.mkdir()
    payload = random.Random(SEED).randbytes(BIG_RANDOM_BYTES)
    source = 'DATA = """\n' + base64.encodebytes(payload).decode("ascii") + '"""\n'
    big = build_wheel(big_dir, BIG_PROJECT, "1.0.0", module_source=source)
    wheels = sorted(small.glob("*.whl"))
    return wheels, big


# --- workloads --------------------------------------------------------------------------------

def twine_upload(target, files):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINE_")}
    cmd = [VENV_BIN / "twine", "upload", "--non-interactive", "--disable-progress-bar",
           "--repository-url", target["upload_url"], "-u", target["username"],
           "-p", target["password"], *files]
    start = time.perf_counter()
    result = run(cmd, env=env, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"twine upload to {target['label']} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def project_url(target, project):
    return f"{target['index_url']}{project}/"


def simple_pages(target, requests=2000, threads=8):
    items = [(project_url(target, PROJECTS[i % len(PROJECTS)]), None) for i in range(requests)]
    load(items[: len(PROJECTS) * 4], 200, threads)  # warm-up, not counted
    return load(items, 200, threads)


def etags(target):
    tags, failed = page_etags({p: project_url(target, p) for p in PROJECTS})
    if failed:
        raise SystemExit(f"{target['label']}: GET {failed[1]} -> {failed[2]}")
    return tags


def revalidation(target, tags):
    return revalidate({p: project_url(target, p) for p in PROJECTS}, tags)


def pip_download(target, tmp, repeats=3):
    """Wall time of one `pip download --no-deps` of all 20 projects, isolated from pip config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    times = []
    for attempt in range(repeats):
        dest = Path(tempfile.mkdtemp(prefix=f"pip-{target['label']}-", dir=tmp))
        cmd = [VENV_BIN / "python", "-m", "pip", "download", "--no-deps", "--no-cache-dir",
               "--disable-pip-version-check", "--progress-bar", "off", "--quiet",
               "--index-url", target["index_url"], "--dest", dest, *PROJECTS]
        start = time.perf_counter()
        result = run(cmd, env=env, check=False)
        times.append(time.perf_counter() - start)
        got = sorted(p.name for p in dest.iterdir())
        if result.returncode != 0 or len(got) != len(PROJECTS):
            raise SystemExit(f"pip download from {target['label']} failed ({len(got)} files):\n"
                             f"{result.stdout}\n{result.stderr}")
        shutil.rmtree(dest)
    return {"runs_s": times, "median_s": statistics.median(times)}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs).get("href", ""))


def file_url(target, project, filename):
    request = urllib.request.Request(project_url(target, project), headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=30) as response:
        page, page_url = response.read().decode(), response.url
    parser = _Links()
    parser.feed(page)
    for href in parser.links:
        if href.split("#")[0].rsplit("/", 1)[-1] == filename:
            return urllib.parse.urljoin(page_url, href.split("#")[0])
    raise SystemExit(f"{target['label']}: {filename} is not on {project_url(target, project)}")


def big_download(target, big, times=20):
    url = file_url(target, BIG_PROJECT, big.name)
    size = big.stat().st_size
    expected = hashlib.sha256(big.read_bytes()).hexdigest()

    def download(verify=False):
        hasher = hashlib.sha256() if verify else None
        got = 0
        with urllib.request.urlopen(url, timeout=300) as response:
            while chunk := response.read(1024 * 1024):
                got += len(chunk)
                if hasher:
                    hasher.update(chunk)
        if got != size or (hasher and hasher.hexdigest() != expected):
            raise SystemExit(f"{target['label']}: {url} sent {got} bytes, wrong content")

    download(verify=True)  # warm-up and integrity check, not timed
    start = time.perf_counter()
    for _ in range(times):
        download()
    wall = time.perf_counter() - start
    return {"downloads": times, "bytes": size * times, "wall_s": wall,
            "mb_per_s": size * times / wall / 1e6, "url_path": urllib.parse.urlsplit(url).path}


def check_uploaded(target):
    for project in PROJECTS:
        request = urllib.request.Request(project_url(target, project), headers={"Accept": "text/html"})
        with urllib.request.urlopen(request, timeout=30) as response:
            page = response.read().decode()
        names = set(re.findall(r"[\w.]+-1\.0\.\d-py3-none-any\.whl", page))
        if len(names) != len(VERSIONS):
            raise SystemExit(f"{target['label']}: {project} lists {len(names)} of "
                             f"{len(VERSIONS)} wheels after the upload")


# --- main -----------------------------------------------------------------------------------

def main():
    args = arguments(__doc__)
    started = time.time()
    peer_info = ensure_peer_venv()
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    log(f"working directory {tmp}")
    servers = []
    try:
        log("building 100 small wheels and one big wheel")
        wheels, big = build_fixtures(tmp)
        log(f"big wheel: {big.name}, {big.stat().st_size / 1e6:.1f} MB")

        ours_server, ours = start_ours(tmp)
        servers.append(ours_server)
        peer_server, peer = start_peer(tmp, peer_info)
        servers.append(peer_server)
        targets = [ours, peer]
        raw = {t["label"]: {} for t in targets}

        log("(1) twine upload of 100 wheels")
        for t in targets:
            raw[t["label"]]["upload_100_s"] = twine_upload(t, wheels)
            check_uploaded(t)

        log("(2) 2000 GETs of simple project pages, 8 threads, no keep-alive")
        for t in targets:
            raw[t["label"]]["simple"] = simple_pages(t)

        log("(3) revalidation with If-None-Match")
        tags = {t["label"]: etags(t) for t in targets}
        peer_has_etags = all(tags["peer"].values())
        for t in targets:
            if t["label"] == "peer" and not peer_has_etags:
                raw["peer"]["revalidate"] = None
                continue
            raw[t["label"]]["revalidate"] = revalidation(t, tags[t["label"]])

        log("(4) pip download --no-deps of 20 projects (3 runs each, median)")
        for t in targets:
            raw[t["label"]]["pip_download"] = pip_download(t, tmp)

        log("(5) upload the big wheel (timed, informational), then download it 20 times")
        for t in targets:
            raw[t["label"]]["upload_big_s"] = twine_upload(t, [big])
        for t in targets:
            raw[t["label"]]["big_download"] = big_download(t, big)

        o, p = raw["ours"], raw["peer"]
        no_etag = "peer sends no ETag: ours only"
        reval_peer = p["revalidate"]
        rows = [
            row("(1) twine upload, 100 wheels", "s", o["upload_100_s"], p["upload_100_s"], "lower"),
            row("(2) simple page GETs, throughput", "req/s", o["simple"]["rps"],
                p["simple"]["rps"], "higher"),
            row("(2) simple page GETs, p50", "ms", o["simple"]["p50_ms"], p["simple"]["p50_ms"],
                "lower"),
            row("(2) simple page GETs, p95", "ms", o["simple"]["p95_ms"], p["simple"]["p95_ms"],
                "lower"),
            row("(3) If-None-Match → 304, throughput", "req/s", o["revalidate"]["rps"],
                reval_peer and reval_peer["rps"], "higher", "" if reval_peer else no_etag),
            row("(3) If-None-Match → 304, p50", "ms", o["revalidate"]["p50_ms"],
                reval_peer and reval_peer["p50_ms"], "lower", "" if reval_peer else no_etag),
            row("(3) If-None-Match → 304, p95", "ms", o["revalidate"]["p95_ms"],
                reval_peer and reval_peer["p95_ms"], "lower", "" if reval_peer else no_etag),
            row("(4) pip download --no-deps, 20 projects", "s", o["pip_download"]["median_s"],
                p["pip_download"]["median_s"], "lower"),
            row(f"(5) download {big.stat().st_size / 1e6:.0f} MB wheel ×20", "MB/s",
                o["big_download"]["mb_per_s"], p["big_download"]["mb_per_s"], "higher"),
            row("(5') twine upload of that wheel (once)", "s", o["upload_big_s"],
                p["upload_big_s"], "lower"),
        ]
        errors = statuses_off(raw)
        setup = {
            "ours": f"gunicorn {WORKERS} sync workers, registry.wsgi, embedded defaults "
                    "(SQLite, locmem cache, local blobs, SERVE_MODE=direct)",
            "peer": f"pypiserver {peer_info['version']} via `pypi-server run --server "
                    f"{peer['method']}` ("
                    + (f"gunicorn {peer_info['gunicorn']}, {WORKERS} sync workers via "
                       "GUNICORN_CMD_ARGS" if peer["method"] == "gunicorn"
                       else "gunicorn not installable: bottle's default single-process server")
                    + f"), backend auto -> {peer_info['backend']}, anonymous uploads "
                    "(-a . -P .), hash-algo sha256 (default)",
            "client": "this Python process; GETs with urllib (Connection: close), 8 threads; "
                      "servers and client share one machine",
            "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, Python "
                       f"{platform.python_version()}",
            "peer_sends_etag": peer_has_etags,
        }
        report(setup, rows, errors, notes=() if peer_has_etags else (
            "(3)     the peer sends no ETag on simple pages, so (3) is measured on ours only",))
        print(f"\nTotal time {time.time() - started:.0f} s; results in {RESULTS.relative_to(ROOT)}")
        RESULTS.write_text(json.dumps({
            "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "setup": setup,
            "rows": rows,
            "raw": raw,
            "errors": errors,
            "big_wheel": {"filename": big.name, "bytes": big.stat().st_size},
        }, indent=2) + "\n")
    finally:
        shut_down(servers, tmp, ("ours.log", "peer.log"), args.keep)


if __name__ == "__main__":
    main()
