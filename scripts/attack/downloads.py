#!/usr/bin/env python3
"""The download half of the attack table (issue #17): fashionlab against a mirror that misbehaves.

    downloads.py BINARY OUTDIR

For each way hostile_mirror.py misbehaves (endless, drip, huge-length, redirect-loop) and for Ctrl-C during a
slow but honest download, runs `BINARY prepare` with
    FASHIONLAB_MIRROR=http://127.0.0.1:PORT/   FASHIONLAB_SYSTEM_DATA=""   XDG_CACHE_HOME=<empty directory>
and, where `unshare -m` works (root), inside a private mount namespace whose
/usr/share/datasets/fashion-mnist is an empty directory: binaries older than FASHIONLAB_SYSTEM_DATA would
otherwise find the system copy and never download. A run still going after ATTACK_DOWNLOAD_CAP seconds
(default 90) gets SIGTERM (as `timeout` sends), then SIGKILL 5 s later. For the Ctrl-C case SIGINT is sent
after 3 s. Records the seconds to the exit, the exit status (signal named), the error message and what was
left in the download directory (`ls -la`, and whether a .part file remained).

Prints a markdown table and writes OUTDIR/downloads.tsv (mode, command, seconds, exit, message, left on disk).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from message import pick as message

HERE = os.path.dirname(os.path.abspath(__file__))
CAP = float(os.environ.get("ATTACK_DOWNLOAD_CAP", "90"))
SYSTEM = os.environ.get("ATTACK_SYSTEM_DATA", "/usr/share/datasets/fashion-mnist")
MODES = [
    ("endless", "200, no Content-Length, a valid gzip (IDX header, then stored zeros) forever, ~8 MB/s"),
    ("drip", "200, real Content-Length, the real bytes one every 2 s"),
    ("huge-length", "200, Content-Length: 10^12, then the real bytes at 4 KiB/s"),
    ("redirect-loop", "302 to itself, forever"),
    ("slow", "Ctrl-C (SIGINT) 3 s into an honest download of the real file at 64 KiB/s"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signal_label(code):
    if code is None:
        return "?"
    if code < 0:
        return "%d %s" % (128 - code, signal.Signals(-code).name)
    if code > 128 and code < 160:
        return "%d %s" % (code, signal.Signals(code - 128).name)
    return str(code)


def can_unshare():
    if not os.path.isdir(SYSTEM):
        return False  # nothing to hide
    try:
        return subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def listing(directory):
    if not os.path.isdir(directory):
        return "download directory not created", False
    names = sorted(os.listdir(directory))
    if not names:
        return "empty directory", False
    parts = []
    for n in names:
        size = os.lstat(os.path.join(directory, n)).st_size
        parts.append("%s (%d B)" % (n, size))
    return ", ".join(parts), any(".part" in n for n in names)


def one(binary, out, mode, hide_system):
    root = os.path.join(out, "downloads", mode)
    shutil.rmtree(root, ignore_errors=True)
    cache = os.path.join(root, "cache")
    empty = os.path.join(root, "empty-system")
    os.makedirs(cache)
    os.makedirs(empty)
    port = free_port()
    server_log = open(os.path.join(root, "mirror.log"), "w")
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "hostile_mirror.py"), str(port), mode],
                              stdout=subprocess.PIPE, stderr=server_log, text=True)
    server.stdout.readline()  # "listening …"
    env = dict(os.environ)
    env.pop("FASHIONLAB_DATA", None)
    env.update(FASHIONLAB_MIRROR="http://127.0.0.1:%d/" % port, FASHIONLAB_SYSTEM_DATA="",
               XDG_CACHE_HOME=cache, HOME=root)
    command = [binary, "prepare", "--out", os.path.join(root, "samples.png")]
    if hide_system:
        command = ["unshare", "-m", "sh", "-c", 'mount --bind "$0" "$1" && shift && exec "$@"',
                   empty, SYSTEM] + command
    stderr_path = os.path.join(root, "stderr")
    start = time.monotonic()
    with open(stderr_path, "w") as err, open(os.path.join(root, "stdout"), "w") as so:
        proc = subprocess.Popen(command, env=env, stdout=so, stderr=err, stdin=subprocess.DEVNULL)
        note = ""
        try:
            if mode == "slow":
                time.sleep(3)
                proc.send_signal(signal.SIGINT)
                note = "SIGINT at 3 s; "
                proc.wait(timeout=30)
            else:
                proc.wait(timeout=CAP)
        except subprocess.TimeoutExpired:
            waited = time.monotonic() - start
            proc.send_signal(signal.SIGTERM)
            note += "still running after %.0f s, SIGTERM sent; " % waited
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                note += "then SIGKILL; "
    seconds = time.monotonic() - start
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
    server_log.close()
    left, part = listing(os.path.join(cache, "fashionlab"))
    if part:
        left = "PARTIAL FILE LEFT: " + left
    # Recorded; now free the disk (an endless download can leave hundreds of megabytes).
    shutil.rmtree(cache, ignore_errors=True)
    said = message(stderr_path)
    if said.startswith("Fashion-MNIST not found"):
        said = "nothing printed but the note 'Fashion-MNIST not found in …; downloading from …'"
    text = note + said[:150]
    return {"mode": mode, "command": "prepare (mirror: %s)" % mode, "seconds": "%.1f" % seconds,
            "exit": signal_label(proc.returncode), "message": text[:200].replace("|", "/").replace("\t", " "),
            "left": left.replace("|", "/")}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    hide = can_unshare()
    rows = []
    print("Downloads (%s; system copy %s)" % (binary, "hidden by a mount namespace" if hide else "not hidden: no unshare"))
    print()
    print("| mirror | what it does | seconds to exit | exit | message | left in the download directory |")
    print("| --- | --- | --- | --- | --- | --- |")
    for mode, what in MODES:
        row = one(binary, out, mode, hide)
        row["what"] = what
        rows.append(row)
        print("| %s | %s | %s | %s | %s | %s |" % (mode, what, row["seconds"], row["exit"], row["message"], row["left"]), flush=True)
    with open(os.path.join(out, "downloads.tsv"), "w") as f:
        for r in rows:
            f.write("\t".join([r["mode"], r["what"], r["seconds"], r["exit"], r["message"], r["left"]]) + "\n")


if __name__ == "__main__":
    main()
