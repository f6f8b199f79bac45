#!/usr/bin/env python3
"""Merges two run.sh results into docs/validation-attacks.md.

    combine.py BEFORE_OUT AFTER_OUT BEFORE_LABEL AFTER_LABEL > docs/validation-attacks.md

BEFORE_OUT and AFTER_OUT are run.sh's OUTDIRs (rows.tsv and downloads.tsv in each); the labels name the
binaries (e.g. the commit each was built from).
"""
import datetime
import os
import sys


def read(path, width):
    rows = []
    if not os.path.exists(path):
        return rows
    for line in open(path, encoding="utf-8", errors="ignore"):  # a byte-cut message may end mid-character
        parts = line.rstrip("\n").split("\t")
        rows.append(parts + [""] * (width - len(parts)))
    return rows


def cell(text):
    return text.replace("|", "/").replace("\n", " ")


# What a row's after-message says when the harm is silent (exit 0): the checks run.sh makes.
SILENT = ["REPLACED", "FOLLOWED", "LIVE MARKUP", "WROTE OUTSIDE", "accepted silently", "read from /usr/share",
          "on the data found elsewhere", "accepted and trained"]


def wrong(exit_label, message):
    return "SIG" in exit_label or exit_label.startswith("124") or any(m in message for m in SILENT)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    before_dir, after_dir, before_label, after_label = sys.argv[1:]
    before = {r[0]: r for r in read(os.path.join(before_dir, "rows.tsv"), 7)}
    after = read(os.path.join(after_dir, "rows.tsv"), 7)
    order = [r[0] for r in after] + [k for k in before if k not in {r[0] for r in after}]
    after_by = {r[0]: r for r in after}
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")

    print("# Validation attacks: before and after the validation fixes (issue #17)")
    print()
    print("Generated %s by `scripts/attack/all.sh` (the scripts under `scripts/attack/`)." % today)
    print()
    print("- **before**: %s" % before_label)
    print("- **after**: %s" % after_label)
    print()
    print("Each attack runs on its own, in a fresh directory, under `timeout 120` and `ulimit -v 6 GiB` (the "
          "machine is shared: an allocation the program does not bound fails there instead of swapping). The "
          "inputs are made by `make_inputs.py` from copies of small real runs that each binary trained itself "
          "(`base/adam`: MLP `--hidden 16`, Adam, 1 epoch on `--subset 1000`; `base/sgdm`: the same with SGD "
          "momentum 0.9; `base/cnn`: `--model cnn`, 1 epoch on `--subset 256`), so each binary is attacked with "
          "files in its own format. Exit: the status, with the signal's name above 128 (133/132 SIGTRAP/SIGILL "
          "is a Swift trap, 139 SIGSEGV, 134 SIGABRT); 124 is the timeout. Message: the first `Error:` line of "
          "standard error, for a crash the crash and its first FashionLab frames, cut at 150 characters; where "
          "the harm would be silent (exit 0), a check made after the run comes first (before the —). "
          "Paths in the commands are relative to the run's OUTDIR.")
    print()
    print("| class | attack | command | before: exit | before: message | after: exit | after: message |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for key in order:
        a = after_by.get(key)
        b = before.get(key)
        ref = a or b
        bexit, bmsg = (b[4], b[5]) if b else ("—", "not run")
        aexit, amsg = (a[4], a[5]) if a else ("—", "not run")
        print("| %s | %s | `%s` | %s | %s | %s | %s |" % tuple(cell(x) for x in (
            ref[1], ref[2], ref[3], bexit, bmsg, aexit, amsg)))
    still = [after_by[k] for k in order if k in after_by and wrong(after_by[k][4], after_by[k][5])]
    print()
    print("Rows where the **after** binary still ends in a signal or a timeout, or a check found silent harm: "
          + (", ".join("`%s` (%s)" % (r[0], r[4]) for r in still) if still else "none") + ".")
    print()
    print("## Downloads")
    print()
    print("`fashionlab prepare` with `FASHIONLAB_MIRROR=http://127.0.0.1:PORT/` pointing at "
          "`hostile_mirror.py PORT MODE`, `FASHIONLAB_SYSTEM_DATA=\"\"`, `XDG_CACHE_HOME` an empty directory, and "
          "(for both binaries alike; the before binary has no `FASHIONLAB_SYSTEM_DATA`) the system copy "
          "`/usr/share/datasets/fashion-mnist` hidden by an empty directory mounted over it in a private mount "
          "namespace (`unshare -m`). The mirror's bodies are valid gzip (the real files, or an endless stored "
          "deflate stream behind a real IDX header), so only the downloader's limits can stop them. A run still "
          "going after 90 s gets SIGTERM (what `timeout` sends). The limits are fixed in "
          "`MirrorDownloader.Limits` (minimum 1024 bytes/s over 30 s, deadline 600 s, 5 redirects, the "
          "catalogue's size cap); no flag or environment variable shortens them. \"Left\" is the content of the "
          "download directory (`$XDG_CACHE_HOME/fashionlab`) after the exit.")
    print()
    print("| mirror | what it does | before: seconds | before: exit | before: message | before: left | "
          "after: seconds | after: exit | after: message | after: left |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    bd = {r[0]: r for r in read(os.path.join(before_dir, "downloads.tsv"), 6)}
    ad = read(os.path.join(after_dir, "downloads.tsv"), 6)
    for a in ad:
        b = bd.get(a[0], [a[0], a[1], "—", "—", "not run", "—"])
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % tuple(cell(x) for x in (
            a[0], a[1], b[2], b[3], b[4], b[5], a[2], a[3], a[4], a[5])))
    findings = os.path.join(os.path.dirname(os.path.abspath(__file__)), "findings.md")
    if os.path.exists(findings):
        print()
        print(open(findings, encoding="utf-8").read().rstrip())


if __name__ == "__main__":
    main()
