"""`make bench` (npm): the same npm workloads against our server and Verdaccio, side by side.

Stdlib only, plus the machine's node and npm. Verdaccio is installed from the npm registry into
var/bench/verdaccio, never into the project. Every number printed comes from this run; nothing
is hard-coded. Results: var/bench/npm-results.json, server logs: var/bench/logs/npm-*.log.
See benchmarks/README.md for what each workload measures and how to read the ratios.
"""

import base64
import datetime
import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

# benchmarks/ is sys.path[0] when this file runs as a script.
from common import (
    BENCH_DIR, ROOT, arguments, WORKERS, Server, create_repository, free_port, load, log, page_etags,
    report, revalidate, row, run, shut_down, start_our_server, statuses_off,
)

VERDACCIO_DIR = BENCH_DIR / "verdaccio"
VERDACCIO_SPEC = "verdaccio@6"
RESULTS = BENCH_DIR / "npm-results.json"
LOG_NAMES = {"ours": "npm-ours.log", "peer": "npm-peer.log"}

REPOSITORY = "bench-npm"
VERSION = "1.0.0"
PACKAGES = [f"bench-npm-{i:02d}" for i in range(30)]  # published with `npm publish`
PUT_PACKAGES = [f"bench-put-{i:02d}" for i in range(30)]  # published with a bare HTTP PUT
BIG_PACKAGE = "bench-npm-big"
BIG_BYTES = 20_000_000  # random, so the gzip of the tarball stays ~20 MB
SEED = 20240101
PEER_USER = "bench"
# What npm sends when it asks for a packument to install from (npm-registry-fetch).
ABBREVIATED_ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
ABBREVIATED_TYPE = "application/vnd.npm.install-v1+json"
# Verdaccio 6 asks for `node-fetch@cjs` (through verdaccio-audit). A registry mirror that only
# carries the `latest` dist-tag cannot resolve that; npm's `overrides` pins it to 2.7.0 (the last
# 2.x, CommonJS), which is what the tag names on registry.npmjs.org.
NODE_FETCH_OVERRIDE = {"verdaccio-audit": {"node-fetch": "2.7.0"}}


def fail(target, message):
    """Stop the run loudly, with the tail of that server's log."""
    raise SystemExit(f"{target['label']} ({target['name']}): {message}\n"
                 f"--- last lines of {target['server'].log_path}\n{target['server'].tail()}")


# --- the peer: Verdaccio ---------------------------------------------------------------------

def ensure_verdaccio():
    binary = VERDACCIO_DIR / "node_modules" / ".bin" / "verdaccio"
    manifest = VERDACCIO_DIR / "package.json"
    if not binary.exists():
        log(f"installing {VERDACCIO_SPEC} into {VERDACCIO_DIR} from the npm registry")
        VERDACCIO_DIR.mkdir(parents=True, exist_ok=True)
        cmd = ["npm", "install", "--prefix", VERDACCIO_DIR, VERDACCIO_SPEC,
               "--no-audit", "--no-fund", "--loglevel", "error"]
        result = run(cmd, check=False)
        if result.returncode != 0 and "node-fetch@cjs" in result.stdout + result.stderr:
            log("the registry has no `cjs` dist-tag of node-fetch: pinning it with `overrides`")
            data = json.loads(manifest.read_text()) if manifest.exists() else {"private": True}
            data["overrides"] = NODE_FETCH_OVERRIDE
            manifest.write_text(json.dumps(data, indent=2) + "\n")
            result = run(cmd, check=False)
        if result.returncode != 0 or not binary.exists():
            raise SystemExit(f"npm install of {VERDACCIO_SPEC} failed:\n"
                             f"{result.stdout}\n{result.stderr}")
    installed = json.loads(
        (VERDACCIO_DIR / "node_modules" / "verdaccio" / "package.json").read_text())
    overrides = json.loads(manifest.read_text()).get("overrides") if manifest.exists() else None
    return {"version": installed["version"], "binary": binary, "overrides": overrides}


def start_peer(tmp, verdaccio):
    port = free_port()
    storage = tmp / "verdaccio-storage"
    storage.mkdir()
    config = {
        "storage": str(storage),
        "auth": {"htpasswd": {"file": str(tmp / "verdaccio-htpasswd"), "max_users": 1}},
        "uplinks": {},  # no proxying to registry.npmjs.org: only what is published here
        "packages": {"**": {"access": "$all", "publish": "$authenticated",
                            "unpublish": "$authenticated"}},
        # JWT API tokens: checked by signature. The default (legacy) tokens carry the password
        # and are checked against the htpasswd file on every request.
        "security": {"api": {"legacy": False, "jwt": {"sign": {"expiresIn": "1d"}}}},
        "max_body_size": "100mb",  # default 10mb: too small for the ~20 MB package
        "web": {"enable": False},
        "middlewares": {"audit": {"enabled": False}},  # would forward to registry.npmjs.org
        "log": {"type": "stdout", "format": "pretty", "level": "warn"},
        "listen": f"127.0.0.1:{port}",
    }
    config_path = tmp / "verdaccio.yaml"
    config_path.write_text(json.dumps(config, indent=2) + "\n")  # JSON is YAML
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
    env.update(NODE_ENV="production", HOME=str(tmp / "verdaccio-home"))
    server = Server(
        "peer (verdaccio)",
        [verdaccio["binary"], "--config", config_path, "--listen", f"127.0.0.1:{port}"],
        env, tmp, tmp / LOG_NAMES["peer"],
    )
    base = f"http://127.0.0.1:{port}"
    server.wait_ready(base + "/-/ping")
    password = base64.urlsafe_b64encode(os.urandom(18)).decode()
    status, body = http(
        "PUT", f"{base}/-/user/org.couchdb.user:{PEER_USER}",
        json.dumps({"_id": f"org.couchdb.user:{PEER_USER}", "name": PEER_USER,
                    "password": password, "type": "user", "roles": [],
                    "date": datetime.datetime.now(datetime.timezone.utc).isoformat()}).encode(),
    )
    token = json.loads(body or "{}").get("token") if status == 201 else None
    if not token:
        server.stop()
        raise SystemExit(f"verdaccio adduser answered {status}: {body[:500]}\n{server.tail()}")
    return server, {"label": "peer", "name": f"verdaccio {verdaccio['version']}",
                    "registry": f"{base}/", "token": token, "server": server, "config": config}


def start_ours(tmp):
    server, base, token = start_our_server(tmp, LOG_NAMES["ours"])
    create_repository(base, token, {"name": REPOSITORY, "format": "npm", "kind": "hosted",
                                    "visibility": "public"})
    return server, {"label": "ours", "name": "registry",
                    "registry": f"{base}/repository/{REPOSITORY}/", "token": token,
                    "server": server}


# --- HTTP and npm ---------------------------------------------------------------------------------

def http(method, url, data=None, headers=None, timeout=300):
    """(status, body text) of one request on a fresh connection."""
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def get_json(target, url, accept="application/json"):
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        fail(target, f"GET {url} (Accept: {accept}) -> {exc.code}: {exc.read()[:500]!r}")


def npm_env(tmp, target=None, cache=None):
    """npm sealed off from the machine's config: its own HOME, user config (registry and token
    of `target`), empty global config and cache; no npm_config_* variables from the caller."""
    home = tmp / f"npm-home-{target['label'] if target else 'pack'}"
    npmrc = home / ".npmrc"
    if not npmrc.exists():
        home.mkdir(exist_ok=True)
        lines = ["audit=false", "fund=false", "update-notifier=false"]
        if target:
            split = urllib.parse.urlsplit(target["registry"])
            lines[:0] = [f"registry={target['registry']}",
                         f"//{split.netloc}{split.path}:_authToken={target['token']}"]
        npmrc.write_text("\n".join(lines) + "\n")
        (tmp / "npm-globalconfig").touch()
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
    env.update(HOME=str(home), npm_config_userconfig=str(npmrc),
               npm_config_globalconfig=str(tmp / "npm-globalconfig"),
               npm_config_cache=str(cache or home / "cache"))
    return env


def npm(target, tmp, args, cwd, cache=None):
    result = run(["npm", *args], env=npm_env(tmp, target, cache), cwd=cwd, check=False)
    if result.returncode != 0:
        fail(target, f"`npm {' '.join(args)}` in {cwd} exited {result.returncode}\n"
                     f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}")
    return result


# --- fixtures ---------------------------------------------------------------------------------

def write_package(root, name, index_source, extra_files=None):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({
        "name": name, "version": VERSION, "description": f"npm benchmark fixture {name}",
        "main": "index.js", "license": "MIT",
        "repository": {"type": "git", "url": "https://example.invalid/bench.git"},
    }, indent=2) + "\n")
    (folder / "index.js").write_text(index_source)
    (folder / "README.md").write_text(f"# {name}\n\nA fixture of the npm benchmark.\n")
    for filename, data in (extra_files or {}).items():
        (folder / filename).write_bytes(data)
    return folder


def build_fixtures(tmp):
    rng = random.Random(SEED)
    root = tmp / "packages"

    def source(name):
        words = " ".join(f"{rng.getrandbits(32):08x}" for _ in range(200))  # ~2 KB of text
        return (f"// {name}\n"
                f"module.exports = {{ name: {json.dumps(name)}, words: {json.dumps(words)} }};\n")

    folders = {name: write_package(root, name, source(name)) for name in PACKAGES + PUT_PACKAGES}
    big = write_package(root, BIG_PACKAGE,
                        "module.exports = require('path').join(__dirname, 'data.bin');\n",
                        {"data.bin": rng.randbytes(BIG_BYTES)})
    # The tarballs of the PUT packages, made by npm itself (one `npm pack` process, untimed).
    tarballs = tmp / "tarballs"
    tarballs.mkdir()
    result = run(["npm", "pack", "--json", "--pack-destination", tarballs,
                  *[folders[name] for name in PUT_PACKAGES]],
                 env=npm_env(tmp), cwd=tmp)
    packed = {entry["name"]: tarballs / entry["filename"] for entry in json.loads(result.stdout)}
    return folders, big, packed


def publish_body(target, folder, tarball):
    """The JSON body `npm publish` sends (libnpmpublish), for a tarball made by `npm pack`."""
    manifest = json.loads((folder / "package.json").read_text())
    name, version = manifest["name"], manifest["version"]
    data = tarball.read_bytes()
    filename = f"{name}-{version}.tgz"
    manifest.update({
        "_id": f"{name}@{version}",
        "readme": (folder / "README.md").read_text(),
        "dist": {
            "shasum": hashlib.sha1(data).hexdigest(),
            "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
            "tarball": f"{target['registry']}{name}/-/{filename}",
        },
    })
    return json.dumps({
        "_id": name, "name": name, "description": manifest["description"],
        "dist-tags": {"latest": version}, "versions": {version: manifest}, "access": None,
        "_attachments": {filename: {"content_type": "application/octet-stream",
                                    "data": base64.b64encode(data).decode(), "length": len(data)}},
    }).encode()


# --- workloads --------------------------------------------------------------------------------

def npm_publish_all(target, tmp, folders):
    start = time.perf_counter()
    for name in PACKAGES:
        npm(target, tmp, ["publish"], cwd=folders[name])
    return time.perf_counter() - start


def put_publish_all(target, folders, packed):
    bodies = [(name, publish_body(target, folders[name], packed[name])) for name in PUT_PACKAGES]
    headers = {"Authorization": f"Bearer {target['token']}", "Accept": "application/json"}
    start = time.perf_counter()
    for name, body in bodies:
        url = target["registry"] + name
        status, text = http("PUT", url, body, headers)
        if status not in (200, 201):
            fail(target, f"PUT {url} ({len(body)} bytes of JSON) -> {status}: {text[:500]}")
    return time.perf_counter() - start


def download(url, hasher=None, timeout=300):
    got = 0
    with urllib.request.urlopen(url, timeout=timeout) as response:
        while chunk := response.read(1024 * 1024):
            got += len(chunk)
            if hasher:
                hasher.update(chunk)
    return got


def check_integrity(target, names, known=None):
    """GET each packument (full and abbreviated), download the tarball it names, and check the
    bytes against dist.integrity (sha512) and dist.shasum (sha1); against the local tarball too
    where `known` has one. Returns {name: integrity}."""
    seen = {}
    for name in names:
        url = target["registry"] + name
        _, _, full = get_json(target, url)
        _, headers, short = get_json(target, url, ABBREVIATED_ACCEPT)
        version = full.get("dist-tags", {}).get("latest")
        if version != VERSION or VERSION not in short.get("versions", {}):
            fail(target, f"GET {url}: dist-tags {full.get('dist-tags')}, abbreviated versions "
                         f"{list(short.get('versions', {}))}")
        dist, short_dist = full["versions"][VERSION]["dist"], short["versions"][VERSION]["dist"]
        if short_dist.get("integrity") != dist.get("integrity"):
            fail(target, f"{name}: abbreviated integrity {short_dist.get('integrity')} != full "
                         f"{dist.get('integrity')}")
        sha512, sha1 = hashlib.sha512(), hashlib.sha1()

        class Both:
            def update(self, chunk):
                sha512.update(chunk)
                sha1.update(chunk)

        size = download(dist["tarball"], Both())
        actual = "sha512-" + base64.b64encode(sha512.digest()).decode()
        if actual != dist.get("integrity") or sha1.hexdigest() != dist.get("shasum"):
            fail(target, f"{name}: GET {dist['tarball']} sent {size} bytes with {actual} / sha1 "
                         f"{sha1.hexdigest()}; the packument says {dist.get('integrity')} / "
                         f"{dist.get('shasum')}")
        if known and name in known:
            local = "sha512-" + base64.b64encode(
                hashlib.sha512(known[name].read_bytes()).digest()).decode()
            if actual != local:
                fail(target, f"{name}: served tarball {actual} differs from the one sent {local}")
        seen[name] = {"integrity": actual, "bytes": size, "tarball": dist["tarball"],
                      "abbreviated_type": headers.get("Content-Type", ""),
                      "etag": bool(headers.get("ETag"))}
    return seen


def packument_gets(target, requests=2000, threads=8):
    items = [(target["registry"] + PACKAGES[i % len(PACKAGES)], {"Accept": ABBREVIATED_ACCEPT})
             for i in range(requests)]
    load(items[: len(PACKAGES) * 4], 200, threads)  # warm-up, not counted
    return load(items, 200, threads)


def etags(target):
    pages = {name: target["registry"] + name for name in PACKAGES}
    tags, failed = page_etags(pages, {"Accept": ABBREVIATED_ACCEPT})
    if failed:
        fail(target, f"GET {failed[1]} -> {failed[2]}")
    return tags


def revalidation(target, tags):
    pages = {name: target["registry"] + name for name in PACKAGES}
    return revalidate(pages, tags, {"Accept": ABBREVIATED_ACCEPT})


def npm_install(target, tmp, repeats=3):
    times = []
    for attempt in range(repeats):
        project = tmp / f"install-{target['label']}-{attempt}"
        project.mkdir()
        (project / "package.json").write_text(json.dumps({
            "name": "bench-consumer", "version": "1.0.0", "private": True,
            "dependencies": {name: f"^{VERSION}" for name in PACKAGES},
        }, indent=2) + "\n")
        cache = tmp / f"install-cache-{target['label']}-{attempt}"  # empty: nothing cached
        start = time.perf_counter()
        npm(target, tmp, ["install", "--no-audit", "--no-fund", "--prefer-online"], cwd=project,
            cache=cache)
        times.append(time.perf_counter() - start)
        installed = sorted(p.name for p in (project / "node_modules").iterdir()
                           if not p.name.startswith("."))
        lock = json.loads((project / "package-lock.json").read_text())["packages"]
        if installed != sorted(PACKAGES):
            fail(target, f"npm install left {len(installed)} packages in node_modules: {installed}")
        missing = [n for n in PACKAGES if not lock.get(f"node_modules/{n}", {}).get("integrity")]
        if missing:
            fail(target, f"package-lock.json has no integrity for {missing}")
        shutil.rmtree(project)
        shutil.rmtree(cache)
    return {"runs_s": times, "median_s": statistics.median(times)}


def npm_publish_big(target, tmp, big):
    start = time.perf_counter()
    npm(target, tmp, ["publish"], cwd=big)
    return time.perf_counter() - start


def big_download(target, url, size, integrity, times=20):
    hasher = hashlib.sha512()
    if download(url, hasher) != size or \
            "sha512-" + base64.b64encode(hasher.digest()).decode() != integrity:
        fail(target, f"{url}: wrong size or content")  # also the warm-up, not timed
    start = time.perf_counter()
    for _ in range(times):
        if download(url) != size:
            fail(target, f"{url}: short download")
    wall = time.perf_counter() - start
    return {"downloads": times, "bytes": size * times, "wall_s": wall,
            "mb_per_s": size * times / wall / 1e6, "url_path": urllib.parse.urlsplit(url).path}


# --- main -------------------------------------------------------------------------------------

def main():
    args = arguments(__doc__)
    started = time.time()
    if not shutil.which("npm") or not shutil.which("node"):
        raise SystemExit("the npm benchmark needs node and npm on PATH")
    versions = {"node": run(["node", "--version"]).stdout.strip(),
                "npm": run(["npm", "--version"]).stdout.strip()}
    verdaccio = ensure_verdaccio()
    tmp = Path(tempfile.mkdtemp(prefix="bench-npm-"))
    log(f"working directory {tmp}")
    servers, raw = [], {"ours": {}, "peer": {}}
    try:
        log(f"building {len(PACKAGES) + len(PUT_PACKAGES)} small package folders and one of "
            f"{BIG_BYTES / 1e6:.0f} MB; packing the {len(PUT_PACKAGES)} PUT ones with npm pack")
        folders, big, packed = build_fixtures(tmp)

        ours_server, ours = start_ours(tmp)
        servers.append(ours_server)
        peer_server, peer = start_peer(tmp, verdaccio)
        servers.append(peer_server)
        targets = [ours, peer]

        log(f"(1) npm publish of {len(PACKAGES)} packages, one npm process each")
        for t in targets:
            raw[t["label"]]["npm_publish_s"] = npm_publish_all(t, tmp, folders)

        log(f"(1') the same publish as bare HTTP PUTs of {len(PUT_PACKAGES)} packages")
        for t in targets:
            raw[t["label"]]["put_publish_s"] = put_publish_all(t, folders, packed)

        log("checking every packument's dist.integrity against its tarball, on both servers")
        checked = {t["label"]: check_integrity(t, PACKAGES + PUT_PACKAGES, packed) for t in targets}
        same_bytes = all(checked["ours"][n]["integrity"] == checked["peer"][n]["integrity"]
                         for n in PACKAGES)

        log("(2) 2000 abbreviated packument GETs, 8 threads, no keep-alive")
        for t in targets:
            raw[t["label"]]["packuments"] = packument_gets(t)

        log("(2') the same GETs with If-None-Match (expecting 304)")
        tags = {t["label"]: etags(t) for t in targets}
        for t in targets:
            if all(tags[t["label"]].values()):
                raw[t["label"]]["revalidate"] = revalidation(t, tags[t["label"]])
            else:
                raw[t["label"]]["revalidate"] = None

        log(f"(3) npm install of {len(PACKAGES)} dependencies, clean cache (3 runs each, median)")
        for t in targets:
            raw[t["label"]]["npm_install"] = npm_install(t, tmp)

        log(f"(5) npm publish of the {BIG_BYTES / 1e6:.0f} MB package (once), "
            "then (4) 20 downloads")
        for t in targets:
            raw[t["label"]]["npm_publish_big_s"] = npm_publish_big(t, tmp, big)
        for t in targets:
            info = check_integrity(t, [BIG_PACKAGE])[BIG_PACKAGE]
            raw[t["label"]]["big_download"] = big_download(t, info["tarball"], info["bytes"],
                                                           info["integrity"])
        big_size = raw["ours"]["big_download"]["bytes"] // raw["ours"]["big_download"]["downloads"]

        o, p = raw["ours"], raw["peer"]
        n, m = len(PACKAGES), len(PUT_PACKAGES)
        no_etag = "a server sent no ETag: " + ", ".join(
            label for label, data in raw.items() if not data["revalidate"])
        rows = [
            row(f"(1) npm publish, {n} packages", "s", o["npm_publish_s"], p["npm_publish_s"],
                "lower"),
            row(f"(1') HTTP PUT publish, {m} packages", "s", o["put_publish_s"], p["put_publish_s"],
                "lower"),
            row("(2) abbreviated packument GETs, throughput", "req/s", o["packuments"]["rps"],
                p["packuments"]["rps"], "higher"),
            row("(2) abbreviated packument GETs, p50", "ms", o["packuments"]["p50_ms"],
                p["packuments"]["p50_ms"], "lower"),
            row("(2) abbreviated packument GETs, p95", "ms", o["packuments"]["p95_ms"],
                p["packuments"]["p95_ms"], "lower"),
            *[row(f"(2') If-None-Match → 304, {what}", unit,
                  o["revalidate"] and o["revalidate"][key],
                  p["revalidate"] and p["revalidate"][key],
                  better, "" if o["revalidate"] and p["revalidate"] else no_etag)
              for what, unit, key, better in (("throughput", "req/s", "rps", "higher"),
                                              ("p50", "ms", "p50_ms", "lower"),
                                              ("p95", "ms", "p95_ms", "lower"))],
            row(f"(3) npm install, {n} deps, clean cache", "s", o["npm_install"]["median_s"],
                p["npm_install"]["median_s"], "lower"),
            row(f"(4) download {big_size / 1e6:.0f} MB tarball ×20", "MB/s",
                o["big_download"]["mb_per_s"], p["big_download"]["mb_per_s"], "higher"),
            row("(5) npm publish of that package (once)", "s", o["npm_publish_big_s"],
                p["npm_publish_big_s"], "lower"),
        ]
        errors = statuses_off(raw)
        first = PACKAGES[0]
        setup = {
            "ours": f"gunicorn {WORKERS} sync workers, registry.wsgi, embedded defaults (SQLite, "
                    f"locmem cache, local blobs, SERVE_MODE=direct); repository {REPOSITORY} "
                    "(npm, hosted, public); admin token",
            "peer": f"verdaccio {verdaccio['version']} (one node process, NODE_ENV=production), "
                    "local storage, htpasswd auth, JWT API tokens, uplinks {}, "
                    "publish: $authenticated, max_body_size 100mb, log level warn"
                    + (f"; installed with overrides {json.dumps(verdaccio['overrides'])}"
                       if verdaccio["overrides"] else ""),
            "client": f"node {versions['node']}, npm {versions['npm']} (sealed: own HOME, "
                      "userconfig, empty globalconfig, cache); GETs with urllib (Connection: "
                      "close), 8 threads; servers and client share one machine",
            "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, Python "
                       f"{platform.python_version()}",
            "abbreviated_content_type": {t["label"]: checked[t["label"]][first]["abbreviated_type"]
                                         for t in targets},
            "packument_etag": {t["label"]: checked[t["label"]][first]["etag"] for t in targets},
            "same_tarballs_from_npm_publish": same_bytes,
        }
        report(setup, rows, errors)
        if not same_bytes:
            print("\nNOTE: npm publish sent different tarball bytes to the two servers")
        print(f"\nTotal time {time.time() - started:.0f} s; results in {RESULTS.relative_to(ROOT)}")
        RESULTS.write_text(json.dumps({
            "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "setup": setup,
            "rows": rows,
            "raw": raw,
            "errors": errors,
            "integrity_checked": {label: len(v) for label, v in checked.items()},
            "big_package": {"name": BIG_PACKAGE, "tarball_bytes": big_size},
            "peer_config": peer["config"],
        }, indent=2) + "\n")
    except SystemExit as exc:
        # No stale numbers: the results file says this run failed, and where.
        RESULTS.write_text(json.dumps({
            "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "failed": str(exc.code), "raw_so_far": raw,
        }, indent=2, default=str) + "\n")
        raise
    finally:
        shut_down(servers, tmp, LOG_NAMES.values(), args.keep)


if __name__ == "__main__":
    main()
