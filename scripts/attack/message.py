#!/usr/bin/env python3
"""The message column of the attack tables: what a user sees when the command fails.

    message.py STDERR_FILE [STDOUT_FILE]

The first "Error:" line of standard error; for a crash, the Swift backtracer's "Program crashed: …" line and
the first frames (function, file:line); else "Fatal error" lines; else the last line of stderr, else the last
line of stdout.
"""
import re
import sys


def lines(path):
    try:
        text = open(path, "rb").read().decode("utf-8", "replace")
    except OSError:
        return []
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    return [l.strip() for l in re.split(r"[\r\n]+", text) if l.strip()]


def frames(err):
    """The first two frames of the crashed thread that are FashionLab's code: function (file:line)."""
    out, crashed = [], False
    for l in err:
        if re.match(r'^Thread \d+ .*crashed:', l):
            crashed = True
            continue
        if crashed and l.startswith("Thread "):
            break
        m = re.match(r"^\d+ (?:\[[^\]]*\] )*\s*0x[0-9a-f]+ (.*?) in fashionlab at (\S+)", l) if crashed else None
        if not m or m.group(1).startswith("Swift runtime failure") or "__allocating_init" in m.group(1):
            continue
        function = re.sub(r" \+ \d+$", "", m.group(1))
        function = re.sub(r"\((?:[A-Za-z_]+:)+\)", "(…)", function)
        where = m.group(2).rsplit("/", 1)[-1]
        out.append(function if where.startswith("<") else "%s (%s)" % (function, where))
        if len(out) == 2:
            break
    return out


def pick(stderr_path, stdout_path=None):
    err = lines(stderr_path)
    for l in err:
        if l.startswith("Error:"):
            return l
    fatal = next((l for l in err if l.startswith("Fatal error") or "fatal error" in l), None)
    crash = next((m.group(2) for m in (re.match(r"^\*\*\* (Program crashed|Swift runtime failure): (.*?) \*\*\*$", l) for l in err) if m), None)
    if crash or fatal:
        crash = re.sub(r" at 0x[0-9a-f]+", "", crash or "")
        f = frames(err)
        text = "; ".join(x for x in [fatal, ("crashed: " + crash) if crash else None] if x)
        return text + (" in " + " ← ".join(f) if f else "")
    if err:
        return err[-1]
    out = lines(stdout_path) if stdout_path else []
    return out[-1] if out else "(no output)"


if __name__ == "__main__":
    print(pick(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
