#!/usr/bin/env python3
"""Loads a page in headless Chromium emulating a phone, and prints its layout as JSON.

Headless Chromium will not make a window narrower than 500 px, so the phone is emulated through
the DevTools protocol (Emulation.setDeviceMetricsOverride), spoken over --remote-debugging-pipe:
file descriptors 3 (commands in) and 4 (answers out), each message JSON ended by a NUL byte.

usage: phone_layout.py CHROMIUM URL WIDTH HEIGHT PROFILE [SCREENSHOT.png]
prints: {"innerWidth", "scrollWidth", "controls": {id: {"left", "right", "visible"}}}
A width under 800 px is a phone (mobile, 2x pixels); wider is a desktop window. With SCREENSHOT,
the whole page is also saved there as a PNG.
"""
import base64
import json
import os
import subprocess
import sys
import time

chromium, url, width, height, profile = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
screenshot = sys.argv[6] if len(sys.argv) > 6 else None
phone = width < 800

to_browser_read, to_browser_write = os.pipe()
from_browser_read, from_browser_write = os.pipe()
os.set_inheritable(to_browser_read, True)
os.set_inheritable(from_browser_write, True)


def child_fds():
    os.dup2(to_browser_read, 3)
    os.dup2(from_browser_write, 4)


browser = subprocess.Popen(
    [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe",
     "--user-data-dir=" + profile, "about:blank"],
    preexec_fn=child_fds, close_fds=False,
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_browser_read)
os.close(from_browser_write)

pending = b""
next_id = 0


def send(method, params=None, session=None):
    global next_id
    next_id += 1
    message = {"id": next_id, "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    os.write(to_browser_write, json.dumps(message).encode() + b"\0")
    return next_id


def receive(deadline):
    global pending
    while b"\0" not in pending:
        if time.time() > deadline:
            raise TimeoutError("no answer from chromium")
        chunk = os.read(from_browser_read, 65536)
        if not chunk:
            raise EOFError("chromium closed its pipe")
        pending += chunk
    message, pending = pending.split(b"\0", 1)
    return json.loads(message)


def call(method, params=None, session=None, timeout=20):
    wanted = send(method, params, session)
    deadline = time.time() + timeout
    while True:
        message = receive(deadline)
        if message.get("id") == wanted:
            if "error" in message:
                raise RuntimeError(f"{method}: {message['error']}")
            return message.get("result", {})


def wait_for(event, session, timeout=20):
    deadline = time.time() + timeout
    while True:
        message = receive(deadline)
        if message.get("method") == event and message.get("sessionId") == session:
            return message


try:
    target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    call("Emulation.setDeviceMetricsOverride",
         {"width": width, "height": height, "deviceScaleFactor": 2 if phone else 1, "mobile": phone}, session)
    call("Page.enable", {}, session)
    call("Page.navigate", {"url": url}, session)
    wait_for("Page.loadEventFired", session)
    time.sleep(0.3)
    expression = """JSON.stringify({
      innerWidth: window.innerWidth,
      scrollWidth: document.documentElement.scrollWidth,
      controls: Object.fromEntries(['logout', 'language'].map(function (id) {
        var element = document.getElementById(id);
        if (!element) { return [id, null]; }
        var box = element.getBoundingClientRect();
        return [id, {left: box.left, right: box.right, visible: box.width > 0 && box.height > 0}];
      }))
    })"""
    result = call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
    if screenshot:
        time.sleep(0.5)
        shot = call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session, timeout=60)
        with open(screenshot, "wb") as file:
            file.write(base64.b64decode(shot["data"]))
    print(result["result"]["value"])
finally:
    try:
        send("Browser.close")
    except OSError:
        pass
    try:
        browser.wait(timeout=10)
    except subprocess.TimeoutExpired:
        browser.kill()
