#!/usr/bin/env python3
"""Screenshots of TensorBoard itself showing a logdir: the curves (Time Series, filtered to the scalars) and the
weight histograms, as docs/tensorboard.md shows them.

    .venv/bin/python3 scripts/tensorboard_screenshot.py LOGDIR docs/tensorboard.png docs/tensorboard-histograms.png

Starts TensorBoard (from the Python running this script: PyPI tensorboard) on 127.0.0.1 only, drives headless
Chromium through chromedriver (Debian: chromium, chromium-driver) over its local W3C WebDriver API, waits for the
charts to draw, and stops both.
"""
import base64
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"tensorboard_screenshot.py: nothing answered at {url} within {seconds} s")


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: tensorboard_screenshot.py LOGDIR CURVES.png HISTOGRAMS.png")
    logdir, curves, histograms = sys.argv[1:]
    board_port, driver_port = free_port(), free_port()
    board = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host", "127.0.0.1",
                              "--port", str(board_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    driver = subprocess.Popen(["chromedriver", f"--port={driver_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{board_port}"
        wait_for(base + "/data/runs")
        wait_for(f"http://127.0.0.1:{driver_port}/status")

        def call(method, path, body=None):
            request = urllib.request.Request(f"http://127.0.0.1:{driver_port}{path}", method=method,
                                             data=None if body is None else json.dumps(body).encode(),
                                             headers={"Content-Type": "application/json"})
            return json.load(urllib.request.urlopen(request))["value"]

        arguments = ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--hide-scrollbars",
                     "--window-size=1400,1500", f"--user-data-dir={tempfile.mkdtemp()}"]
        session = call("POST", "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": arguments}}}})["sessionId"]
        try:
            for url, path in [(base + "/?darkMode=false&tagFilter=loss%7Caccuracy%7Clearning#timeseries", curves),
                              (base + "/?darkMode=false#histograms", histograms)]:
                call("POST", f"/session/{session}/url", {"url": url})
                time.sleep(15)  # the charts fetch their data and draw after the page has loaded
                with open(path, "wb") as file:
                    file.write(base64.b64decode(call("GET", f"/session/{session}/screenshot")))
                print(f"Saved {path}")
        finally:
            call("DELETE", f"/session/{session}")
    finally:
        driver.terminate()
        board.terminate()
        driver.wait()
        board.wait()


if __name__ == "__main__":
    main()
