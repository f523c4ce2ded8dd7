"""Helpers shared by the benchmarks (`run.py`: PyPI, `npm.py`: npm).

Stdlib only. Starting and stopping servers by PID, our server's set-up with embedded defaults,
the threaded GET load, and the ours/peer ratio table.
"""

import base64
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
BENCH_DIR = ROOT / "var" / "bench"

WORKERS = 2

# Settings of our server that the environment could override: cleared, so the benchmark always
# measures the embedded defaults (SQLite, locmem cache, local blobs, sendfile downloads).
OUR_SETTINGS_VARS = (
    "ALLOWED_HOSTS AWS_ACCESS_KEY_ID AWS_S3_ENDPOINT_URL AWS_S3_REGION_NAME AWS_SECRET_ACCESS_KEY "
    "AWS_STORAGE_BUCKET_NAME BLOB_ROOT CACHE_URL CELERY_BROKER_URL CELERY_RESULT_BACKEND "
    "CSRF_TRUSTED_ORIGINS DATABASE_CONN_MAX_AGE DATABASE_URL DEBUG INDEX_CACHE_SECONDS LOG_LEVEL "
    "MAX_UPLOAD_SIZE S3_ADDRESSING_STYLE S3_BUCKET S3_ENDPOINT_URL S3_PREFIX S3_PRESIGN_SECONDS "
    "S3_REGION SECRET_KEY SECURE_PROXY_SSL_HEADER SERVE_MODE SESSION_COOKIE_SECURE STORAGE_BACKEND "
    "USE_X_FORWARDED_HOST VAR_DIR X_ACCEL_PREFIX DJANGO_SETTINGS_MODULE GUNICORN_CMD_ARGS"
).split()


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd, *, env=None, cwd=None, check=True, capture=True):
    result = subprocess.run(
        [str(c) for c in cmd], env=env, cwd=cwd, text=True,
        stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None,
    )
    if check and result.returncode != 0:
        raise SystemExit(
            f"command failed ({result.returncode}): {' '.join(map(str, cmd))}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


# --- servers ---------------------------------------------------------------------------------

class Server:
    """One server process that this script started; stopped by its own PID."""

    def __init__(self, label, cmd, env, cwd, log_path):
        self.label = label
        self.log_path = log_path
        self.log_handle = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [str(c) for c in cmd], env=env, cwd=cwd,
            stdout=self.log_handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log(f"started {label}: pid {self.proc.pid}")

    def wait_ready(self, url, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(url, timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{self.label} did not come up at {url}; log:\n{self.tail()}")

    def tail(self, lines=40):
        try:
            return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            log(f"stopping {self.label}: pid {self.proc.pid}")
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_handle.close()


def no_control_socket(gunicorn):
    """Gunicorn 27+ opens a control socket at one fixed path by default: the two servers would
    share it. Turn it off where this gunicorn has the option."""
    help_text = run([gunicorn, "--help"], check=False).stdout
    return ["--no-control-socket"] if "--no-control-socket" in help_text else []


def start_our_server(tmp, log_name="ours.log"):
    """Our server with the embedded defaults and a fresh VAR_DIR under tmp: migrate, a
    superuser `admin` with an admin-scope token, then gunicorn with WORKERS sync workers.
    Returns (server, base URL, token)."""
    var_dir = tmp / "ours-var"
    (var_dir / "static").mkdir(parents=True)  # whitenoise's STATIC_ROOT; nothing to collect
    env = {k: v for k, v in os.environ.items()
           if k not in OUR_SETTINGS_VARS and k.removesuffix("_FILE") not in OUR_SETTINGS_VARS}
    env.update(VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="registry.settings",
               LOG_LEVEL="WARNING")
    python = VENV_BIN / "python"
    run([python, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT)
    password = base64.urlsafe_b64encode(os.urandom(18)).decode()
    run([python, "manage.py", "createsuperuser", "--noinput"], cwd=ROOT, env={
        **env, "DJANGO_SUPERUSER_USERNAME": "admin", "DJANGO_SUPERUSER_PASSWORD": password,
        "DJANGO_SUPERUSER_EMAIL": "admin@example.invalid"})
    out = run([python, "manage.py", "create_token", "admin", "--name", "bench", "--scope", "admin"],
              env=env, cwd=ROOT)
    token = out.stdout.strip().splitlines()[-1].strip()
    port = free_port()
    server = Server(
        "ours (gunicorn registry.wsgi)",
        [VENV_BIN / "gunicorn", "registry.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(WORKERS), "--timeout", "300", *no_control_socket(VENV_BIN / "gunicorn")],
        env, ROOT, tmp / log_name,
    )
    base = f"http://127.0.0.1:{port}"
    server.wait_ready(base + "/api/v1/repositories/")
    return server, base, token


def create_repository(base, token, body):
    """POST /api/v1/repositories/ on our server with the admin token."""
    request = urllib.request.Request(
        base + "/api/v1/repositories/", method="POST", data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status not in (200, 201):
            raise SystemExit(f"creating the repository answered {response.status}")


# --- load -------------------------------------------------------------------------------------

def fetch(url, headers=None):
    """One GET on a fresh connection (urllib sends Connection: close); (status, headers, ms)."""
    request = urllib.request.Request(url, headers=headers or {})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            status, got = response.status, response.headers
    except urllib.error.HTTPError as exc:
        exc.read()
        status, got = exc.code, exc.headers
    return status, got, (time.perf_counter() - start) * 1000


def load(urls_and_headers, expect, threads=8):
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(lambda item: fetch(*item), urls_and_headers))
    wall = time.perf_counter() - start
    latencies = sorted(ms for _, _, ms in results)
    errors = sum(1 for status, _, _ in results if status != expect)
    return {
        "requests": len(results),
        "errors": errors,
        "wall_s": wall,
        "rps": len(results) / wall,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
    }


def percentile(sorted_values, pct):
    # Nearest-rank percentile.
    rank = max(1, -(-pct * len(sorted_values) // 100))
    return sorted_values[int(rank) - 1]


# --- report -----------------------------------------------------------------------------------

def row(name, unit, ours, peer, better, note=""):
    ratio = (ours / peer) if (ours is not None and peer) else None
    if ratio is None:
        verdict = ""
    elif 0.95 <= ratio <= 1.05:
        verdict = "about even (within 5%)"
    else:
        ahead = ratio > 1 if better == "higher" else ratio < 1
        factor = ratio if ratio > 1 else 1 / ratio
        verdict = f"ours {'better' if ahead else 'WORSE'} by {factor:.2f}x"
    return {"workload": name, "unit": unit, "ours": ours, "peer": peer, "ratio": ratio,
            "better": better, "verdict": verdict, "note": note}


def fmt(value, unit):
    if value is None:
        return "—"
    if unit in ("s",):
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "req/s":
        return f"{value:.0f} req/s"
    if unit == "MB/s":
        return f"{value:.0f} MB/s"
    return f"{value:.3g} {unit}"


def print_table(rows):
    headers = ["workload", "ours", "peer", "ratio ours/peer", "verdict"]
    lines = []
    for r in rows:
        if r["ratio"] is None:
            ratio, verdict = "n/a", r["note"]
        else:
            ratio, verdict = f"{r['ratio']:.2f} ({r['better']} is better)", r["verdict"]
        lines.append([r["workload"], fmt(r["ours"], r["unit"]), fmt(r["peer"], r["unit"]), ratio,
                      verdict])
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines]
    print("\n".join(out))


def statuses_off(raw):
    """Per server, the workloads that saw unexpected HTTP statuses."""
    return {label: {k: v["errors"] for k, v in data.items() if isinstance(v, dict) and "errors" in v}
            for label, data in raw.items()}


def report(setup, rows, errors, notes=()):
    """Print the setup, the table and anything that went wrong, as every benchmark does."""
    print()
    print("Setup:")
    for key in ("ours", "peer", "client", "machine"):
        print(f"  {key:7} {setup[key]}")
    for note in notes:
        print(f"  {note}")
    print()
    print_table(rows)
    bad = {label: e for label, e in errors.items() if any(e.values())}
    if bad:
        print(f"\nNON-EXPECTED STATUSES: {bad}")


def shut_down(servers, tmp, log_names, keep):
    """Stop the servers this run started, keep their logs under var/bench/logs, clean up."""
    import shutil

    for server in reversed(servers):
        server.stop()
    logs = BENCH_DIR / "logs"
    logs.mkdir(exist_ok=True)
    for name in log_names:
        if (tmp / name).exists():
            shutil.copy(tmp / name, logs / name)
    if keep:
        log(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def page_etags(pages, headers=None):
    """{key: ETag} of the pages {key: url}; (key, url, status) of the first that is not 200."""
    tags = {}
    for key, url in pages.items():
        status, response_headers, _ = fetch(url, headers)
        if status != 200:
            return tags, (key, url, status)
        tags[key] = response_headers.get("ETag")
    return tags, None


def revalidate(pages, tags, headers=None, requests=2000, threads=8):
    """`requests` conditional GETs cycling through the pages, expecting 304 (after a warm-up)."""
    keys = list(pages)
    items = []
    for i in range(requests):
        key = keys[i % len(keys)]
        items.append((pages[key], {**(headers or {}), "If-None-Match": tags[key]}))
    load(items[: len(keys) * 4], 304, threads)
    return load(items, 304, threads)


def arguments(doc):
    """The command line every benchmark takes (`--keep`), and its output folder made."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    return parser.parse_args()
