"""Shared plumbing for credd's benchmarks: the release binary, a throw-away home, the fake STS,
`credd run` under a NOTIFY_SOCKET the harness listens on, and /proc readings.

Nothing here touches the real ~/.aws: every run gets its own HOME and XDG directories.
"""
import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.dirname(os.path.abspath(__file__))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# The static keys the sessions are made from; the fake STS never checks them.
SOURCE_KEYS = "[bench-source]\naws_access_key_id = AKIABENCHEXAMPLE0001\naws_secret_access_key = bench-source-secret-not-real\n"


def log(message):
    print(message, file=sys.stderr, flush=True)


# How scripts/package builds credd: the figures are those of the binary users install.
RELEASE_BUILD = ["swift", "build", "-c", "release", "--static-swift-stdlib", "-Xlinker", "--no-export-dynamic"]


def release_binary(product="credd"):
    """The release build of `product` as scripts/package makes it, built first unless CREDD_BIN (for credd) is set."""
    if product == "credd" and os.environ.get("CREDD_BIN"):
        return os.environ["CREDD_BIN"]
    log(f"building: {' '.join(RELEASE_BUILD)} --product {product}")
    subprocess.run(RELEASE_BUILD + ["--product", product], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    bin_path = subprocess.run(RELEASE_BUILD + ["--show-bin-path"], cwd=REPO, check=True,
                              capture_output=True, text=True).stdout.strip()
    return os.path.join(bin_path, product)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class FakeSTSProcess:
    """bench/lib/fake_sts.py (or another `script` taking the same first arguments) in its own
    process, so it never competes with the harness's GIL."""

    def __init__(self, session_seconds=43200, script="fake_sts.py", arguments=()):
        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, os.path.join(LIB, script), str(self.port),
                                         "--session-seconds", str(session_seconds), *arguments])
        wait_for_port(self.port)
        self.url = f"http://127.0.0.1:{self.port}"

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=5) as response:
            return response.read()

    def requests_served(self):
        return int(self.get("/__requests"))

    def timings(self, since):
        """The STS calls that arrived at or after `since` (time.monotonic()), as
        {"action", "arrived", "sent"} (fake_sts.py only)."""
        import json
        return [call for call in json.loads(self.get("/__timings")) if call["arrived"] >= since]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def profile_config(count):
    """`count` managed profiles: one GetSessionToken session from static keys and count-1 roles
    chained from it (the shape of docs/design.md §1: one MFA session, many roles)."""
    sections = []
    if count >= 1:
        sections.append("[profile base]\nsource_profile = bench-source\nduration_seconds = 43200\n")
    for index in range(1, count):
        sections.append(
            f"[profile role{index:04d}]\nsource_profile = base\n"
            f"role_arn = arn:aws:iam::123456789012:role/Bench{index:04d}\nrole_session_name = bench\n")
    return sections


class CreddHome:
    """A throw-away HOME with a credd config of `profiles` profiles and a credentials file
    holding the source keys, plus the environment `credd run` gets."""

    def __init__(self, profiles, sts_url, endpoint_port=None, user_credentials=""):
        self.directory = tempfile.mkdtemp(prefix="credd-bench.")
        self.home = os.path.join(self.directory, "home")
        self.runtime = os.path.join(self.directory, "run")
        self.endpoint_port = endpoint_port or free_port()
        for sub in (".aws", ".config/credd"):
            os.makedirs(os.path.join(self.home, sub), mode=0o700)
        os.makedirs(self.runtime, mode=0o700)
        self.credentials_path = os.path.join(self.home, ".aws", "credentials")
        self.config_path = os.path.join(self.home, ".config", "credd", "config")
        with open(self.credentials_path, "w") as file:
            file.write(SOURCE_KEYS + ("\n" + user_credentials if user_credentials else ""))
        os.chmod(self.credentials_path, 0o600)
        with open(self.config_path, "w") as file:
            file.write(f"[credd]\nlisten = 127.0.0.1:{self.endpoint_port}\n\n" + "\n".join(profile_config(profiles)))
        self.environment = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("AWS_", "CREDD_")) and key not in ("NOTIFY_SOCKET", "JOURNAL_STREAM", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID")
        }
        self.environment.update({
            "HOME": self.home,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_RUNTIME_DIR": self.runtime,
            "AWS_ENDPOINT_URL_STS": sts_url,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        })

    def cleanup(self):
        shutil.rmtree(self.directory, ignore_errors=True)


class ReadySocket:
    """A NOTIFY_SOCKET datagram socket: what systemd listens on for a Type=notify service."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(self.path)

    def wait_for_ready(self, timeout):
        """Blocks until a datagram carries READY=1; returns time.monotonic() at its arrival."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"no READY=1 within {timeout} s")
            self.socket.settimeout(remaining)
            message = self.socket.recv(4096).decode(errors="replace")
            arrived = time.monotonic()
            if "READY=1" in message.split("\n"):
                return arrived

    def drain(self):
        """Keeps reading after READY=1, as systemd does: a sender blocks once the socket's queue
        of unread datagrams is full, so a harness that stops reading would freeze credd."""
        def discard():
            self.socket.settimeout(None)
            with contextlib.suppress(OSError):
                while self.socket.recv(4096):
                    pass
        threading.Thread(target=discard, daemon=True).start()

    def close(self):
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)  # wakes the draining thread
        self.socket.close()


class CreddDaemon:
    """`credd run` started with NOTIFY_SOCKET pointing at a ReadySocket.

    `started_at` is taken just before the fork+exec, `ready_at` when READY=1 arrives, so
    `ready_at - started_at` is exec to READY=1 including the harness's own fork+exec. credd
    gets its own session: a SIGINT meant for the harness's terminal reaches the harness, which
    stops credd itself (and a shell that started the harness in the background cannot make the
    harness ignore SIGINT while credd, which handles it, stops early)."""

    def __init__(self, binary, home, ready_timeout=60.0):
        self.home = home
        self.notify = ReadySocket(home.directory)
        self.log_path = os.path.join(home.directory, "credd.log")
        environment = dict(home.environment, NOTIFY_SOCKET=self.notify.path)
        with open(self.log_path, "wb") as log_file:
            self.started_at = time.monotonic()
            self.process = subprocess.Popen([binary, "run"], env=environment, stdout=log_file, stderr=log_file,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self.ready_at = self.notify.wait_for_ready(ready_timeout)
            self.notify.drain()
        except Exception:
            self.stop()
            log(self.log())
            raise

    @property
    def start_to_ready(self):
        return self.ready_at - self.started_at

    @property
    def pid(self):
        return self.process.pid

    def log(self):
        with open(self.log_path, errors="replace") as file:
            return file.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.notify.close()


def record_for_leak_scan(source, outputs, secrets=()):
    """With CREDD_LEAK_SCAN_DIR set (scripts/test sets it), leaves what credd printed in a run
    for scripts/leak-scan, which fails the test run if any known secret shows up in it."""
    directory = os.environ.get("CREDD_LEAK_SCAN_DIR")
    if not directory:
        return
    import json
    import uuid
    path = os.path.join(directory, f"{uuid.uuid4()}.json")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        json.dump({"source": source, "secrets": list(secrets), "outputs": list(outputs)}, file)


def container_environment(binary, home, profile):
    """AWS_CONTAINER_CREDENTIALS_FULL_URI and the token, as `credd env` gives them to a user."""
    output = subprocess.run([binary, "env", profile], env=home.environment, check=True, capture_output=True, text=True).stdout
    variables = {}
    for line in output.splitlines():
        words = shlex.split(line)
        if words and words[0] == "export":
            name, _, value = words[1].partition("=")
            variables[name] = value
    with open(variables["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) as file:
        token = file.read()
    return variables["AWS_CONTAINER_CREDENTIALS_FULL_URI"], token


def status_field(pid, field):
    """A `kB` field of /proc/PID/status (VmRSS, VmHWM, RssAnon, …), in KiB."""
    with open(f"/proc/{pid}/status") as file:
        for line in file:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def smaps_rollup(pid):
    """The kB fields of /proc/PID/smaps_rollup (Pss, Private_Dirty, Anonymous, …), in KiB: PSS and
    private memory are what a process costs the machine; VmRSS also counts shared, clean code
    pages that the page cache shares and reclaims."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as file:
        for line in file:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1])
    return fields


def cpu_seconds(pid):
    """utime + stime of /proc/PID/stat, in seconds (all threads)."""
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14 and stime 15 (1-based, proc(5)).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def thread_count(pid):
    with open(f"/proc/{pid}/status") as file:
        for line in file:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise KeyError("Threads")


def percentile(values, fraction):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(-(-fraction * len(ordered) // 1)) - 1))
    return ordered[rank]


def machine_load():
    """The 1-minute load average: the machine is shared, so every result records it."""
    with open("/proc/loadavg") as file:
        return float(file.read().split()[0])


def save_results(name, results):
    """bench/results/NAME.json (or $CREDD_BENCH_RESULTS/NAME.json), for docs/performance.md and for
    comparing runs."""
    import json
    directory = os.environ.get("CREDD_BENCH_RESULTS") or os.path.join(REPO, "bench", "results")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name + ".json")
    with open(path, "w") as file:
        json.dump(dict(results, date=time.strftime("%Y-%m-%dT%H:%M:%S%z")), file, indent=2)
        file.write("\n")
    log(f"results: {os.path.relpath(path, REPO)}")
