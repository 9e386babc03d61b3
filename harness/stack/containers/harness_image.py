"""The image of the harness itself, for `gatewaylab k8s-job`: each pod runs gatewaylab with its loopback stack.

Built here FROM scratch like the component images (images.py): no registry, no base image. Two images,
each tagged by the hash of every byte in it: the runtime (this machine's Python with the project's
dependencies, nginx, PostgreSQL when installed, /bin/sh for the pod's command, and every library `ldd`
names) and, FROM it, the harness (harness/, scenarios/, the Go services, Toxiproxy), so a code change
rebuilds only the small one.
"""

from __future__ import annotations

import hashlib
import io
import importlib.metadata as md
import json
import os
import pwd
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from pathlib import Path

import docker
import docker.errors
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.errors import StackError, ToolMissing
from harness.host import tools
from harness.stack import postgres
from harness.stack.containers.images import GROUP, IMAGE, REPOSITORY, linked

APP = "/opt/gatewaylab"                # the project's root inside the image (host.tools.ROOT there)
PYTHON = f"{APP}/.venv/bin/python"
SCENARIOS_EXTRA = f"{APP}/job-scenarios"   # scenario files named by path, baked in
NOT_IN_POD = {"kubernetes"}    # k8s-job's own dependency: a pod never writes manifests
STDLIB_SKIP = {"test", "site-packages", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3"}
ENV = {"PATH": "/usr/sbin:/usr/bin:/bin", "HOME": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib", "PYTHONUTF8": "1",
       "TZ": "UTC"}

# path in the image -> a host file (Path), bytes, ("link", target) or ("dir", mode)
Layout = dict[str, object]


def _tree(layout: Layout, src: Path, dest: str, skip=lambda rel: False) -> None:
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        dirs[:] = sorted(d for d in dirs if not skip(rel / d))
        for f in files:
            p = Path(root) / f
            if p.is_file() and not skip(rel / f) and ".opt-" not in f:  # -O bytecode: never run  # a symlink to a file: its content
                layout[f"{dest}/{(rel / f).as_posix()}".replace("/./", "/")] = p


def requirements_closure(root: Path = tools.ROOT) -> list[md.Distribution]:
    """The installed distributions the project's dependencies (pyproject.toml) pull in, extras excluded."""
    wanted = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    todo = [(Requirement(d), {""}) for d in wanted]
    seen: dict[str, md.Distribution] = {}
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen or name in NOT_IN_POD or req.marker and not any(req.marker.evaluate({"extra": e}) for e in extras):
            continue
        try:
            seen[name] = dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            raise ToolMissing(f"{req.name} (a dependency of gatewaylab) is not installed in {sys.prefix}: "
                              f"run `make setup`, then build the image again.") from None
        todo += [(Requirement(r), set(req.extras) | {""}) for r in dist.requires or []]
    return [seen[n] for n in sorted(seen)]


def _site_packages(layout: Layout) -> None:
    dest = f"{APP}/.venv/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
    for dist in requirements_closure():
        for f in dist.files or []:
            if ".." in f.parts or "tests" in f.parts[:-1]:
                continue  # console scripts (the pod runs `python -m`), the packages' own test suites
            p = Path(dist.locate_file(f))
            if p.is_file():
                layout[f"{dest}/{f.as_posix()}"] = p


def _python(layout: Layout) -> None:
    base = Path(sys.base_prefix)
    ver = f"python{sys.version_info.major}.{sys.version_info.minor}"
    exe = base / "bin" / ver
    layout[str(exe)] = exe
    _tree(layout, base / "lib" / ver, str(base / "lib" / ver),  # libpython: as ldd names it
          skip=lambda rel: rel.parts[0] in STDLIB_SKIP or rel.name.startswith(("config-", "_tkinter")))
    layout[f"{APP}/.venv/bin/python"] = ("link", str(exe))
    layout[f"{APP}/.venv/pyvenv.cfg"] = (f"home = {base / 'bin'}\ninclude-system-site-packages = false\n"
                                         f"version = {sys.version.split()[0]}\n").encode()


def _users() -> tuple[bytes, bytes]:
    """root, nobody (nginx's worker) and postgres (PostgreSQL refuses root), with this machine's ids."""
    users = [("root", 0, 0), ("nobody", 65534, 65534)]
    try:
        pw = pwd.getpwnam("postgres")
        users.append(("postgres", pw.pw_uid, pw.pw_gid))
    except KeyError:
        pass
    passwd = "".join(f"{n}:x:{u}:{g}:{n}:/tmp:/sbin/nologin\n" for n, u, g in users)
    group = GROUP.decode() + "".join(f"{n}:x:{g}:\n" for n, _, g in users[2:])
    return passwd.encode(), group.encode()


def has_postgres() -> bool:
    try:
        postgres.bin_dir()
        return True
    except ToolMissing:
        return False


def runtime_layout() -> tuple[Layout, list[str]]:
    """What every pod needs besides the project, and what it leaves out (with why)."""
    layout: Layout = {"/tmp": ("dir", 0o1777), "/results": ("dir", 0o755)}
    _python(layout)
    _site_packages(layout)
    layout["/usr/sbin/nginx"] = tools.find_nginx()
    layout["/bin/sh"] = Path("/bin/sh").resolve()
    layout["/etc/passwd"], layout["/etc/group"] = _users()
    left_out = []
    try:
        pg = postgres.bin_dir().parent  # /usr/lib/postgresql/N
        _tree(layout, pg, str(pg), skip=lambda rel: rel.name.startswith(("llvmjit", "bitcode")))  # JIT: off
        share = Path("/usr/share/postgresql") / pg.name
        if share.is_dir():
            _tree(layout, share, str(share))
        for tz in ("UTC", "Etc/UTC"):
            if Path("/usr/share/zoneinfo", tz).is_file():
                layout[f"/usr/share/zoneinfo/{tz}"] = Path("/usr/share/zoneinfo", tz)
    except ToolMissing:
        left_out.append("PostgreSQL (not installed here: scenarios with a database cannot run in the pods)")
    _libraries(layout)
    return layout, left_out


def _libraries(layout: Layout) -> None:
    """Every shared library the binaries and extension modules link, outside what the image holds already."""
    elves = [p for k, p in layout.items() if isinstance(p, Path) and (".so" in p.name or os.access(p, os.X_OK))
             and not p.name.endswith((".py", ".pyc", ".sh"))]
    held = {str(p.resolve()) for p in elves}
    for k in range(0, len(elves), 200):
        for lib in _ldd(elves[k:k + 200]):
            if str(lib.resolve()) not in held:
                layout.setdefault(str(lib), lib.resolve())


def _ldd(paths: list[Path]) -> set[Path]:
    if len(paths) == 1:
        return set(linked(paths[0]))
    out = subprocess.run(["ldd", *map(str, paths)], capture_output=True, text=True).stdout
    return {Path(line.split(" => ")[-1].split(" (0x")[0].strip()) for line in out.splitlines()
            if "(0x" in line and "/" in line.split("(0x")[0]}


def project_layout(scenario_files: list[Path] = ()) -> Layout:
    """The project the pods run, at APP: its code, scenarios, the Go services and Toxiproxy."""
    found = tools.find()
    layout: Layout = {}
    skip = lambda rel: "__pycache__" in rel.parts  # noqa: E731 - Python writes its own in the pod
    _tree(layout, tools.ROOT / "harness", f"{APP}/harness", skip)
    _tree(layout, tools.ROOT / "scenarios", f"{APP}/scenarios", skip)
    for binary in (found.refsvc, found.dependency, found.toxiproxy):
        layout[f"{APP}/{binary.relative_to(tools.ROOT).as_posix()}"] = binary
    for f in scenario_files:
        layout[f"{SCENARIOS_EXTRA}/{f.name}"] = f
    return layout


def tag_of(layout: Layout, name: str, base: str = "") -> str:
    h = hashlib.sha256(f"{name}\0{base}\0{json.dumps(ENV, sort_keys=True)}".encode())
    for path, item in sorted(layout.items()):
        h.update(path.encode() + b"\0")
        if isinstance(item, Path):
            with item.open("rb") as f:
                h.update(hashlib.file_digest(f, "sha256").digest() + oct(item.stat().st_mode & 0o777).encode())
        else:
            h.update(repr(item).encode())
    return f"{REPOSITORY}/{name}:{h.hexdigest()[:16]}"


def _context(layout: Layout, dockerfile: str, out) -> None:
    with tarfile.open(fileobj=out, mode="w") as tar:
        def add(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
        add("Dockerfile", dockerfile.encode())
        for path, item in sorted(layout.items()):
            info = tarfile.TarInfo(f"rootfs{path}")
            if isinstance(item, Path):
                info.size, info.mode = item.stat().st_size, item.stat().st_mode & 0o777
                with item.open("rb") as f:
                    tar.addfile(info, f)
            elif isinstance(item, bytes):
                add(f"rootfs{path}", item)
            else:
                kind, arg = item
                info.type = tarfile.SYMTYPE if kind == "link" else tarfile.DIRTYPE
                info.linkname, info.mode = (arg, 0o777) if kind == "link" else ("", arg)
                tar.addfile(info)


def _build(client: docker.DockerClient, layout: Layout, tag: str, dockerfile: str, name: str) -> None:
    with tempfile.TemporaryFile() as ctx:
        _context(layout, dockerfile, ctx)
        ctx.seek(0)
        try:
            client.images.build(fileobj=ctx, custom_context=True, tag=tag, rm=True, forcerm=True, pull=False,
                                network_mode="none", labels={IMAGE: name}, timeout=600)
        except docker.errors.BuildError as e:
            log = "".join(json.dumps(x) for x in e.build_log)[-2000:]
            raise StackError(f"Building the {name} image failed: {e.msg}\n{log}") from None


def _have(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def ensure(client: docker.DockerClient, scenario_files: list[Path] = ()) -> dict:
    """The harness image (built when a byte changed): its tag, size, build seconds, what it leaves out."""
    t0 = time.monotonic()
    runtime, left_out = runtime_layout()
    base = tag_of(runtime, "harness-runtime")
    built = []
    if not _have(client, base):
        _build(client, runtime, base, "FROM scratch\nCOPY rootfs/ /\n", "harness-runtime")
        built.append(base)
    project = project_layout(list(scenario_files))
    tag = tag_of(project, "harness", base)
    if not _have(client, tag):
        env = " ".join(f"{k}={v}" for k, v in ENV.items())
        _build(client, project, tag, f'FROM {base}\nCOPY rootfs/ /\nENV {env}\nWORKDIR {APP}\n'
                                      f'ENTRYPOINT ["{PYTHON}", "-m", "harness"]\n', "harness")
        built.append(tag)
    size = client.images.get(tag).attrs["Size"]
    return {"tag": tag, "runtime": base, "built": built, "size_mb": round(size / 1e6), "left_out": left_out,
            "seconds": round(time.monotonic() - t0, 1)}
