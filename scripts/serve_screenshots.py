#!/usr/bin/env python3
"""Screenshots of `fashionlab serve`'s pages in headless Chromium over WebDriver (Debian's chromium-driver):
docs/serve-runs.png, serve-run.png, serve-compare.png, serve-predict.png. Standard library only.

    python3 scripts/serve_screenshots.py http://127.0.0.1:8080/ RUN_ID OTHER_RUN_ID PHOTO.jpg [OUT_DIR]
"""
import base64, json, os, subprocess, sys, tempfile, time, urllib.request

base, run, other, photo = sys.argv[1:5]
out = sys.argv[5] if len(sys.argv) > 5 else "docs"
port = 9517
driver = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["value"]


try:
    for _ in range(50):
        try:
            call("GET", "/status"); break
        except OSError:
            time.sleep(0.2)
    options = {"binary": "/usr/bin/chromium", "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--window-size=1280,1000", "--user-data-dir=" + tempfile.mkdtemp()]}
    session = call("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}})["sessionId"]

    def shot(url, name, height=1000, before=None):
        call("POST", f"/session/{session}/url", {"url": url})
        time.sleep(2)
        if before: before()
        full = call("POST", f"/session/{session}/execute/sync", {"script": "return document.body.scrollHeight;", "args": []})
        call("POST", f"/session/{session}/window/rect", {"width": 1280, "height": min(max(height, full + 140), 4000)})
        time.sleep(0.5)
        with open(os.path.join(out, name), "wb") as f:
            f.write(base64.b64decode(call("GET", f"/session/{session}/screenshot")))
        print("wrote", os.path.join(out, name))

    def upload():
        element = call("POST", f"/session/{session}/element", {"using": "css selector", "value": "#file"})
        call("POST", f"/session/{session}/element/{list(element.values())[0]}/value", {"text": os.path.abspath(photo)})
        time.sleep(2)

    shot(base + "?lang=en", "serve-runs.png", 700)
    shot(base + "runs/" + run, "serve-run.png")
    shot(base + "runs/" + run + "?lang=vi", "serve-run-vi.png")
    shot(base + f"compare?run={run}&run={other}", "serve-compare.png")
    shot(base + "predict?run=" + run, "serve-predict.png", 900, upload)
    call("DELETE", f"/session/{session}")
finally:
    driver.kill()
