"""Container images for the end-to-end tests, made and served on this machine only: a CNCF distribution
registry (`docker-registry`) on a free loopback port, OCI images assembled with umoci and pushed with
skopeo, and the static test server (apps/image_server) that the images run. No Docker engine and no
network registry are involved; every wait is bounded.

Fixtures here (`registry`, `private_registry`, `image_server_binary`) are imported by the test modules
that use them:
    from images import registry, image_server_binary  # noqa: F401

`private_registry` is the same registry with htpasswd (HTTP basic) authentication: it answers only the
users it was made with, over plain HTTP on 127.0.0.1 (distribution 2.8 does not insist on TLS for
htpasswd), and refuses anonymous pulls and pushes with 401.
"""

import base64
import gzip
import hashlib
import io
import json
import os
import secrets
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import warnings
import zlib
from pathlib import Path

import pytest

from conftest import free_port

IMAGE_SERVER_SRC = (Path(__file__).parent / "apps" / "image_server").resolve()
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ignite" / "e2e-images"
GO_BIN = "/usr/local/go/bin"
TOOLS = ("skopeo", "umoci", "docker-registry")
TOOL_TIMEOUT = 120  # seconds for any one umoci / skopeo / go call

GZIP_MAGIC = b"\x1f\x8b"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"


def missing_tools():
    """The image tools this machine lacks (empty when all are installed)."""
    return [t for t in TOOLS if shutil.which(t) is None]


def skip_without_tools():
    """A skipif mark for tests that need the registry and the image tools."""
    missing = missing_tools()
    return pytest.mark.skipif(bool(missing), reason="container image tests need " + ", ".join(missing) +
                              " (Debian packages skopeo, umoci, docker-registry)")


def _run(argv, timeout=TOOL_TIMEOUT, env=None, cwd=None):
    p = subprocess.run(argv, capture_output=True, timeout=timeout, env=env, cwd=cwd, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {p.returncode}:\n"
                           f"stdout: {p.stdout.decode(errors='replace')}\n"
                           f"stderr: {p.stderr.decode(errors='replace')}")
    return p


# ---------------------------------------------------------------------------------------------------------
# Registry


def bcrypt_hash(password):
    """A bcrypt hash of `password` ("$2b$..."), the only htpasswd format distribution 2.8 accepts (it takes
    the $2a$, $2b$ and $2y$ prefixes alike). Made with the crypt module (libxcrypt), else the bcrypt
    package, else `htpasswd -B`; None when none of them is there."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # crypt is deprecated in 3.11, gone in 3.13
            import crypt
        method = getattr(crypt, "METHOD_BLOWFISH", None)
        if method is not None:
            h = crypt.crypt(password, crypt.mksalt(method))
            if h and h.startswith("$2") and crypt.crypt(password, h) == h:
                return h
    except ImportError:
        pass
    try:
        import bcrypt
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    except ImportError:
        pass
    if shutil.which("htpasswd"):
        p = subprocess.run(["htpasswd", "-nbB", "u", password], capture_output=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        line = p.stdout.decode().strip()
        if p.returncode == 0 and line.startswith("u:$2"):
            return line[2:]
    return None


def _basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Registry:
    """`docker-registry serve` on 127.0.0.1:<free port>, storing in a temporary directory. `.host` is the
    "127.0.0.1:PORT" that image references start with.

    users: {username: password}; when given, the registry authenticates with htpasswd (bcrypt entries) and
    answers only those users (anonymous calls get 401). Still plain HTTP: skopeo needs --tls-verify=false
    (or --dest-tls-verify=false) as with the open registry, plus --creds / --dest-creds (`.creds`)."""

    def __init__(self, root=None, users=None):
        self._own_root = root is None
        self.root = Path(root or tempfile.mkdtemp(prefix="ignite-e2e-registry-"))
        self.port = None
        self.proc = None
        self.log_path = self.root / "registry.log"
        self._log = None
        self.users = dict(users or {})
        self.realm = "ignite-e2e"

    @property
    def creds(self):
        """"user:password" of the first user, as skopeo's --creds takes it; None for an open registry."""
        if not self.users:
            return None
        user, password = next(iter(self.users.items()))
        return f"{user}:{password}"

    def _auth_header(self):
        if not self.users:
            return {}
        user, password = next(iter(self.users.items()))
        return {"Authorization": _basic(user, password)}

    def _write_htpasswd(self):
        path = self.root / "htpasswd"
        lines = []
        for user, password in self.users.items():
            if ":" in user or "\n" in user or "\n" in password:
                raise ValueError(f"htpasswd cannot hold the user {user!r}")
            h = bcrypt_hash(password)
            if h is None:
                raise RuntimeError("no bcrypt available for htpasswd (Python crypt module with libxcrypt, the "
                                   "bcrypt package, or htpasswd from apache2-utils)")
            lines.append(f"{user}:{h}\n")
        path.write_text("".join(lines))
        os.chmod(path, 0o600)
        return path

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    @property
    def url(self):
        return f"http://{self.host}"

    def start(self, timeout=15):
        # A free port can be taken between the probe and the registry's bind: try a few.
        last = None
        for _ in range(3):
            try:
                return self._start_once(timeout)
            except RuntimeError as e:
                last = e
                self.stop()
        raise last

    def _start_once(self, timeout):
        self.port = free_port()
        storage = self.root / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        # The registry reads YAML; JSON is YAML, so the paths need no quoting rules of their own.
        config.write_text(
            "version: 0.1\n"
            "log:\n"
            "  level: warn\n"
            "  accesslog:\n"
            "    disabled: true\n"
            "storage:\n"
            "  filesystem:\n"
            f"    rootdirectory: {json.dumps(str(storage))}\n"
            "  delete:\n"
            "    enabled: true\n"
            "http:\n"
            f"  addr: {json.dumps(self.host)}\n"
            "health:\n"
            "  storagedriver:\n"
            "    enabled: false\n"
            + self._auth_config())
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        ready = urllib.request.Request(self.url + "/v2/", headers=self._auth_header())
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([shutil.which("docker-registry") or "docker-registry", "serve", str(config)],
                                     stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(ready, timeout=1) as r:
                    if r.status == 200:
                        return self
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not answer GET /v2/ in {timeout}s:\n{self.log()}")

    def _auth_config(self):
        if not self.users:
            return ""
        htpasswd = self._write_htpasswd()
        return ("auth:\n"
                "  htpasswd:\n"
                f"    realm: {json.dumps(self.realm)}\n"
                f"    path: {json.dumps(str(htpasswd))}\n")

    def status(self, path, creds="default"):
        """(HTTP status, Www-Authenticate header) of GET <path> ("/v2/<name>/manifests/<tag>"): with the
        first user's credentials by default, with creds=("user", "password"), or anonymously (creds=None)."""
        headers = self._auth_header() if creds == "default" else ({"Authorization": _basic(*creds)} if creds else {})
        headers["Accept"] = ("application/vnd.oci.image.manifest.v1+json, "
                             "application/vnd.docker.distribution.manifest.v2+json")
        req = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers.get("Www-Authenticate")
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Www-Authenticate")

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None

    def cleanup(self):
        self.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def tags(self, name):
        """The tags the registry holds for a repository ([] when it has none)."""
        req = urllib.request.Request(f"{self.url}/v2/{name}/tags/list", headers=self._auth_header())
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read()).get("tags") or []
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return []
            raise


@pytest.fixture(scope="session")
def registry():
    missing = missing_tools()
    if missing:
        pytest.skip("container image tests need " + ", ".join(missing))
    r = Registry().start()
    yield r
    r.cleanup()


@pytest.fixture(scope="session")
def private_registry():
    """A registry that requires a login: one user "ci" with a random password (`.users`, `.creds`)."""
    missing = missing_tools()
    if missing:
        pytest.skip("container image tests need " + ", ".join(missing))
    if bcrypt_hash("probe") is None:
        pytest.skip("the authenticated registry needs bcrypt for htpasswd (Python's crypt module with libxcrypt, "
                    "the bcrypt package, or htpasswd from apache2-utils)")
    r = Registry(users={"ci": "ci-" + secrets.token_urlsafe(18)}).start()
    yield r
    r.cleanup()


# ---------------------------------------------------------------------------------------------------------
# The test server binary


def _source_key():
    h = hashlib.sha256()
    for name in ("main.go", "go.mod"):
        h.update(name.encode() + b"\0" + (IMAGE_SERVER_SRC / name).read_bytes() + b"\0")
    return h.hexdigest()


def build_image_server(out_dir=None):
    """apps/image_server as a static linux/amd64 binary; cached under ~/.cache/ignite/e2e-images/<sha256 of
    the source> so reruns do not compile again. Returns the binary's path."""
    key = _source_key()
    cached = CACHE / key / "image_server"
    if cached.is_file() and os.access(cached, os.X_OK):
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PATH"] = GO_BIN + os.pathsep + env.get("PATH", "")
    env.update(CGO_ENABLED="0", GOOS="linux", GOARCH="amd64", GOTOOLCHAIN="local",
               GOWORK="off")
    go = shutil.which("go", path=env["PATH"])
    if go is None:
        pytest.skip(f"building apps/image_server needs Go (looked in {GO_BIN} and PATH)")
    with tempfile.TemporaryDirectory(prefix="image-server-build-", dir=out_dir) as tmp:
        out = Path(tmp) / "image_server"
        _run([go, "build", "-trimpath", "-ldflags=-s -w", "-o", str(out), "."], timeout=300, env=env,
             cwd=IMAGE_SERVER_SRC)
        # Atomic publish into the cache: parallel sessions never see a half-written binary.
        staged = cached.with_name(f".image_server.{os.getpid()}")
        shutil.copy2(out, staged)
        os.chmod(staged, 0o755)
        os.replace(staged, cached)
    return cached


@pytest.fixture(scope="session")
def image_server_binary():
    return build_image_server()


SHIM_SRC = (Path(__file__).parent / "apps" / "image_shim").resolve()


def build_with_shim(app_dir, name):
    """A test app written for the Go SDK (apps/<name>: main.go using ignite.Start) built against the image
    shim (apps/image_shim), which serves it on $PORT: the same code as a container image's server. Static,
    cached like build_image_server. Returns the binary's path."""
    app_dir = Path(app_dir)
    h = hashlib.sha256()
    for f in (app_dir / "main.go", SHIM_SRC / "shim.go", SHIM_SRC / "go.mod"):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    cached = CACHE / h.hexdigest() / name
    if cached.is_file() and os.access(cached, os.X_OK):
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PATH"] = GO_BIN + os.pathsep + env.get("PATH", "")
    env.update(CGO_ENABLED="0", GOOS="linux", GOARCH="amd64", GOTOOLCHAIN="local", GOWORK="off", GOFLAGS="-mod=mod",
               GOPROXY="off")
    go = shutil.which("go", path=env["PATH"])
    if go is None:
        pytest.skip(f"building {name} needs Go (looked in {GO_BIN} and PATH)")
    with tempfile.TemporaryDirectory(prefix=f"{name}-build-") as tmp:
        shutil.copy2(app_dir / "main.go", Path(tmp) / "main.go")
        (Path(tmp) / "go.mod").write_text(f"module {name}\n\ngo 1.26\n\nrequire ignite v0.0.0\n\n"
                                          f"replace ignite => {SHIM_SRC}\n")
        out = Path(tmp) / name
        _run([go, "build", "-trimpath", "-ldflags=-s -w", "-o", str(out), "."], timeout=300, env=env, cwd=tmp)
        staged = cached.with_name(f".{name}.{os.getpid()}")
        shutil.copy2(out, staged)
        os.chmod(staged, 0o755)
        os.replace(staged, cached)
    return cached


# ---------------------------------------------------------------------------------------------------------
# Layers


class _Zeros(io.RawIOBase):
    """`size` zero bytes, read in chunks: a huge file without holding it in memory."""

    def __init__(self, size):
        self.left = size

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def tar_gz_layer(entries, compress=True):
    """A layer tar (gzip-compressed unless compress=False) with the entries exactly as named, including
    hostile names such as "../escape" or "/abs" (tarfile writes names as given). Entries:
        (name, bytes)                  a regular file, mode 0644
        ("file", name, bytes, mode)    a regular file with a mode
        ("dir", name)                  a directory, mode 0755
        ("link", name, target)         a hard link to target
        ("symlink", name, target)      a symbolic link to target
        ("zeros", name, size)          a regular file of `size` zero bytes, streamed (a huge file)
    An uncompressed layer (compress=False) is compressed by skopeo on its way to the registry; its entries
    are unchanged."""
    out = io.BytesIO()
    # Compressed as it is written, so a huge file never sits in memory uncompressed.
    sink = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0) if compress else out
    # USTAR cannot hold long names; GNU can and is what most layer tars are.
    with tarfile.open(fileobj=sink, mode="w", format=tarfile.GNU_FORMAT) as t:
        for e in entries:
            kind = e[0]
            if len(e) == 2 and isinstance(e[1], (bytes, bytearray)):
                kind, e = "file", ("file", e[0], bytes(e[1]), 0o644)
            ti = tarfile.TarInfo(e[1])
            ti.uid = ti.gid = 0
            ti.mtime = 0
            if kind == "file":
                ti.size, ti.mode = len(e[2]), (e[3] if len(e) > 3 else 0o644)
                t.addfile(ti, io.BytesIO(e[2]))
            elif kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            elif kind == "link":
                ti.type, ti.linkname = tarfile.LNKTYPE, e[2]
                t.addfile(ti)
            elif kind == "symlink":
                ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, e[2], 0o777
                t.addfile(ti)
            elif kind == "zeros":
                ti.size, ti.mode = e[2], 0o644
                t.addfile(ti, io.BufferedReader(_Zeros(e[2]), buffer_size=1 << 20))
            else:
                raise ValueError(f"unknown layer entry {e!r}")
    if compress:
        sink.close()
    return out.getvalue()


def _diff_id(blob: bytes):
    """sha256 of the decompressed stream (the config's rootfs.diff_ids entry). A layer that does not
    decompress (a deliberately corrupt one) gets the hash of what did, so the image still pushes."""
    if not blob.startswith(GZIP_MAGIC):
        return "sha256:" + hashlib.sha256(blob).hexdigest()
    h = hashlib.sha256()
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for i in range(0, len(blob), 1 << 20):
            h.update(d.decompress(blob[i:i + (1 << 20)]))
        h.update(d.flush())
    except zlib.error:
        pass
    return "sha256:" + h.hexdigest()


def _write_blob(layout: Path, data: bytes):
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return "sha256:" + digest


def _read_blob(layout: Path, digest: str):
    return (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()


def _append_raw_layers(layout: Path, tag: str, layers):
    """Appends each blob to the image `tag` in the OCI layout as is (no re-compression, so hostile or
    corrupt bytes reach the registry exactly as the test made them): blob into blobs/sha256, the manifest's
    layers, the config's rootfs.diff_ids and history, then the rewritten config and manifest blobs and the
    index entry. umoci 0.4.7's `raw add-layer` only takes uncompressed tars and re-compresses them."""
    index = json.loads((layout / "index.json").read_text())
    entry = next(m for m in index["manifests"]
                 if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
    manifest = json.loads(_read_blob(layout, entry["digest"]))
    config = json.loads(_read_blob(layout, manifest["config"]["digest"]))
    for blob in layers:
        blob = bytes(blob)
        digest = _write_blob(layout, blob)
        manifest["layers"].append({"mediaType": LAYER_GZIP if blob.startswith(GZIP_MAGIC) else LAYER_TAR,
                                   "digest": digest, "size": len(blob)})
        config.setdefault("rootfs", {"type": "layers", "diff_ids": []})["diff_ids"].append(_diff_id(blob))
        config.setdefault("history", []).append({"created": "1970-01-01T00:00:00Z",
                                                 "created_by": "ignite e2e: raw layer " + digest})
    cfg = json.dumps(config, separators=(",", ":")).encode()
    manifest["config"] = dict(manifest["config"], digest=_write_blob(layout, cfg), size=len(cfg))
    man = json.dumps(manifest, separators=(",", ":")).encode()
    entry["digest"], entry["size"] = _write_blob(layout, man), len(man)
    (layout / "index.json").write_text(json.dumps(index, separators=(",", ":")))


# ---------------------------------------------------------------------------------------------------------
# Images

PASSWD = ("root:x:0:0:root:/root:/sbin/nologin\n"
          "app:x:1000:1000:app:/home/app:/sbin/nologin\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n")
GROUP = "root:x:0:\napp:x:1000:\nstaff:x:50:\nnogroup:x:65534:\n"
ELF_MAGIC = b"\x7fELF"


def _put(rootfs: Path, path: str, content):
    """Writes one file into the unpacked rootfs. content: bytes, a host path (str or Path), or
    (bytes-or-path, mode). Executables (ELF, #!, or host files with an x bit) get 0755, others 0644."""
    mode = None
    if isinstance(content, tuple):
        content, mode = content
    dst = rootfs / path.lstrip("/")
    if rootfs.resolve() not in (dst.resolve().parent, *dst.resolve().parents):
        raise ValueError(f"{path!r} is outside the image root; use extra_layers for hostile entries")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, (bytes, bytearray)):
        data = bytes(content)
        dst.write_bytes(data)
        executable = data.startswith(ELF_MAGIC) or data.startswith(b"#!")
    else:
        src = Path(content)
        shutil.copyfile(src, dst)
        executable = os.access(src, os.X_OK) or src.read_bytes()[:4] == ELF_MAGIC
    os.chmod(dst, mode if mode is not None else (0o755 if executable else 0o644))


def _creds_arg(creds):
    """skopeo's USERNAME:PASSWORD from "user:pw", ("user", "pw") or a Registry (its first user)."""
    if isinstance(creds, Registry):
        creds = creds.creds
    if isinstance(creds, (tuple, list)):
        creds = f"{creds[0]}:{creds[1]}"
    return creds


def build_image(registry, name, tag, files, user="65534", entrypoint=None, cmd=None, env=None, workdir=None,
                exposed_ports=None, extra_layers=None, labels=None, creds=None):
    """Makes an OCI image with umoci and pushes it to the registry with skopeo; returns its reference
    "127.0.0.1:PORT/name:tag".

    files: {path inside the image: bytes | host path | (bytes or host path, mode)}, plus a minimal
    /etc/passwd and /etc/group (root, app 1000, nobody 65534) unless given, and an empty /tmp.
    user: the config's User ("65534", "1000:1000", "app", "0"); None leaves no User at all.
    entrypoint, cmd: lists (a string is one element); env: {KEY: VALUE} or ["KEY=VALUE"];
    exposed_ports: ["8080/tcp", 8081, ...]; extra_layers: raw layer blobs (tar_gz_layer's bytes), appended
    after the files layer exactly as given.
    creds: the push's login ("user:password", ("user", "password") or the Registry itself for its first
    user), passed to skopeo as --dest-creds; None pushes anonymously."""
    registry_host = registry.host if isinstance(registry, Registry) else str(registry)
    with tempfile.TemporaryDirectory(prefix="ignite-e2e-image-") as tmp:
        layout, bundle = Path(tmp) / "layout", Path(tmp) / "bundle"
        img = f"{layout}:img"
        _run(["umoci", "init", "--layout", str(layout)])
        _run(["umoci", "new", "--image", img])
        _run(["umoci", "unpack", "--rootless", "--image", img, str(bundle)])
        rootfs = bundle / "rootfs"
        files = dict(files or {})
        files.setdefault("/etc/passwd", PASSWD.encode())
        files.setdefault("/etc/group", GROUP.encode())
        for path, content in files.items():
            _put(rootfs, path, content)
        (rootfs / "tmp").mkdir(exist_ok=True)
        os.chmod(rootfs / "tmp", 0o1777)
        _run(["umoci", "repack", "--image", img, str(bundle)])
        if extra_layers:
            _append_raw_layers(layout, "img", extra_layers)

        argv = ["umoci", "config", "--image", img, "--os", "linux", "--architecture", "amd64"]
        if user is not None:
            argv += ["--config.user", str(user)]
        for flag, values in (("--config.entrypoint", entrypoint), ("--config.cmd", cmd)):
            if values is not None:
                for v in ([values] if isinstance(values, str) else values):
                    argv += [flag, v]
        if env:
            items = [f"{k}={v}" for k, v in env.items()] if isinstance(env, dict) else list(env)
            for item in items:
                argv += ["--config.env", item]
        if workdir is not None:
            argv += ["--config.workingdir", workdir]
        for port in exposed_ports or ():
            port = str(port)
            argv += ["--config.exposedports", port if "/" in port else port + "/tcp"]
        for k, v in (labels or {}).items():
            argv += ["--config.label", f"{k}={v}"]
        _run(argv)

        ref = f"{registry_host}/{name}:{tag}"
        push = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false"]
        if creds is not None:
            push += ["--dest-creds", _creds_arg(creds)]
        _run(push + [f"oci:{layout}:img", f"docker://{ref}"])
    return ref


def server_image(registry, binary, name, tag="1", env=None, user="65534", workdir="/app", **kw):
    """The usual test image: apps/image_server as /app/server, its entrypoint, run as `user`."""
    files = dict(kw.pop("files", {}) or {})
    files["/app/server"] = binary
    return build_image(registry, name, tag, files, user=user, entrypoint=["/app/server"], env=env,
                       workdir=workdir, **kw)


def private_server_image(registry, binary, name, tag="1", **kw):
    """server_image pushed to an authenticated Registry with its first user's login."""
    return server_image(registry, binary, name, tag, creds=registry, **kw)


def inspect(ref, raw=False, config=False, creds=None):
    """`skopeo inspect` of a pushed image: the summary (default), the raw manifest (raw=True) or the image
    config (config=True), as parsed JSON. creds: as build_image's, for an authenticated registry."""
    argv = ["skopeo", "inspect", "--tls-verify=false"]
    if creds is not None:
        argv += ["--creds", _creds_arg(creds)]
    if raw:
        argv.append("--raw")
    if config:
        argv.append("--config")
    return json.loads(_run(argv + [f"docker://{ref}"], timeout=60).stdout)


def manifest_digest(ref, creds=None):
    """The registry's digest for a pushed reference: "sha256:<hex>" of its manifest bytes."""
    argv = ["skopeo", "inspect", "--tls-verify=false", "--raw"]
    if creds is not None:
        argv += ["--creds", _creds_arg(creds)]
    raw = _run(argv + [f"docker://{ref}"], timeout=60).stdout
    return "sha256:" + hashlib.sha256(raw).hexdigest()
