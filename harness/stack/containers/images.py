"""Images built here from this machine's binaries: no registry, no pull.

Each image is FROM scratch: the binary, the shared libraries `ldd` says it links
(none for a static Go binary) and any small files it needs. The tag is the hash
of all of that, so an image is built once and rebuilt only when a byte changes.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import tarfile
from pathlib import Path

import docker
import docker.errors

from harness.errors import StackError

REPOSITORY = "gatewaylab"
IMAGE = "gatewaylab.image"   # label of every image built here
BUILT_BY = "gatewaylab.built-by-run"
# nginx's master runs its worker as nobody:nobody.
PASSWD = b"root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n"
GROUP = b"root:x:0:\nnobody:x:65534:\nnogroup:x:65534:\n"


def linked(binary: Path) -> list[Path]:
    """The shared libraries (and loader) a binary needs, as ldd resolves them here; [] when static."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True)
    if out.returncode != 0:
        return []  # "not a dynamic executable"
    libs = []
    for line in out.stdout.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            libs.append(Path(m.group(1)))
    return libs


def contents(binary: Path, name: str) -> dict[str, bytes]:
    """Path in the image -> bytes: /<name> is the binary; libraries keep their paths."""
    files = {f"/{name}": binary.read_bytes()}
    for lib in linked(binary):
        files[str(lib)] = lib.resolve().read_bytes()
    if name == "nginx":
        files.update({"/etc/passwd": PASSWD, "/etc/group": GROUP})
    return files


def _context(files: dict[str, bytes], name: str, tag: str) -> bytes:
    dockerfile = f'FROM scratch\nCOPY rootfs/ /\nENTRYPOINT ["/{name}"]\n'.encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data in [("Dockerfile", dockerfile), *((f"rootfs{p}", d) for p, d in sorted(files.items()))]:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def tag_of(files: dict[str, bytes], name: str) -> str:
    h = hashlib.sha256(name.encode())
    for path, data in sorted(files.items()):
        h.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
    return f"{REPOSITORY}/{name}:{h.hexdigest()[:16]}"


def ensure(client: docker.DockerClient, binary: Path, name: str, run_id: str) -> tuple[str, bool]:
    """The image holding `binary` as /<name>: (tag, built now?)."""
    files = contents(binary, name)
    tag = tag_of(files, name)
    try:
        client.images.get(tag)
        return tag, False
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.build(fileobj=io.BytesIO(_context(files, name, tag)), custom_context=True, tag=tag, rm=True,
                            forcerm=True, network_mode="none", labels={IMAGE: name, BUILT_BY: run_id})
    except docker.errors.BuildError as e:
        log = "".join(json.dumps(x) for x in e.build_log)[-2000:]
        raise StackError(f"Building the {name} image from {binary} failed: {e.msg}\n{log}") from None
    return tag, True


def pulled(client: docker.DockerClient, ref: str) -> None:
    """A published image (containers.images), pulled when it is not here yet."""
    try:
        client.images.get(ref)
    except docker.errors.ImageNotFound:
        try:
            client.images.pull(ref)
        except docker.errors.APIError as e:
            raise StackError(f"The image {ref} (containers.images) is not here and could not be pulled: "
                             f"{e.explanation or e}. Drop it from containers.images to use the image built here.") from None
