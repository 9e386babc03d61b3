"""cgroup counters as the kernel lays them out, v1 and v2 (this machine is v1: the docker tests read it for real)."""

from __future__ import annotations

from pathlib import Path

from harness.stack.containers.cgroups import read

CID = "3f2a" * 16


def tree(tmp_path: Path, files: dict[str, str], cgroup: str) -> tuple[Path, Path]:
    root, proc = tmp_path / "sys", tmp_path / "proc"
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    (proc / "42").mkdir(parents=True)
    (proc / "42" / "cgroup").write_text(cgroup)
    return root, proc


def test_v2_unified(tmp_path):
    scope = f"system.slice/docker-{CID}.scope"
    root, proc = tree(tmp_path, {
        f"{scope}/memory.current": "52428800\n", f"{scope}/memory.max": "67108864\n",
        f"{scope}/cpu.stat": "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 100\n"
                             "nr_throttled 40\nthrottled_usec 1500000\n",
    }, f"0::/{scope}\n")
    assert read(42, CID, root, proc) == {"mem_bytes": 52428800, "mem_limit_bytes": 67108864, "cpu_s": 2.5,
                                         "periods": 100, "throttled_periods": 40, "throttled_s": 1.5}


def test_v2_without_a_limit(tmp_path):
    scope = f"system.slice/docker-{CID}.scope"
    root, proc = tree(tmp_path, {f"{scope}/memory.current": "1\n", f"{scope}/memory.max": "max\n",
                                 f"{scope}/cpu.stat": "usage_usec 1\n"}, f"0::/{scope}\n")
    got = read(42, CID, root, proc)
    assert got["mem_limit_bytes"] is None and got["periods"] == 0


def test_v1_cgroupfs_and_no_limit(tmp_path):
    files = {f"memory/docker/{CID}/memory.usage_in_bytes": "1048576\n",
             f"memory/docker/{CID}/memory.limit_in_bytes": "9223372036854771712\n",
             f"cpu,cpuacct/docker/{CID}/cpu.stat": "nr_periods 10\nnr_throttled 3\nthrottled_time 250000000\n",
             f"cpu,cpuacct/docker/{CID}/cpuacct.usage": "750000000\n"}
    root, proc = tree(tmp_path, files, f"12:memory:/docker/{CID}\n4:cpu,cpuacct:/docker/{CID}\n1:name=systemd:/docker/{CID}\n")
    for c in ("cpu", "cpuacct"):
        (root / c).symlink_to(root / "cpu,cpuacct")  # as the kernel's mount does
    assert read(42, CID, root, proc) == {"mem_bytes": 1048576, "mem_limit_bytes": None, "cpu_s": 0.75,
                                         "periods": 10, "throttled_periods": 3, "throttled_s": 0.25}


def test_a_process_that_left_its_container_reads_as_nothing(tmp_path):
    # just killed: /proc shows the root cgroup, whose counters are the whole machine's
    root, proc = tree(tmp_path, {"memory/memory.usage_in_bytes": "9999999999\n"}, "12:memory:/\n4:cpu,cpuacct:/\n")
    assert read(42, CID, root, proc) is None
    assert read(43, CID, root, proc) is None  # gone
