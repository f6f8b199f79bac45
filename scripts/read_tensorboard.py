#!/usr/bin/env python3
"""Reads a TensorBoard logdir with TensorBoard's own reader and prints what it holds as JSON.

    scripts/read_tensorboard.py LOGDIR            (JSON)
    scripts/read_tensorboard.py --summary LOGDIR  (a few lines a tag, for people)

Every directory under LOGDIR that holds event files is a run (as TensorBoard's run selector lists them), named by
its path relative to LOGDIR ("." for LOGDIR itself). For each run, what
tensorboard.backend.event_processing.event_accumulator.EventAccumulator loads (nothing sampled away):

    {"runs": {"RUN": {"files": N,
                      "scalars": {"TAG": [[step, value], ...]},
                      "histograms": {"TAG": [{"step": S, "num": N, "min": ..., "max": ..., "sum": ...,
                                              "sum_squares": ..., "buckets": B, "bucket_total": N}, ...]}}}}

NaN and infinities are written as the strings "nan", "inf" and "-inf" (JSON has no numbers for them). Needs the
PyPI package tensorboard (.ci/run installs it into .venv).
"""
import json
import math
import os
import sys

from tensorboard.backend.event_processing import event_accumulator


def number(value):
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def read_run(path):
    accumulator = event_accumulator.EventAccumulator(
        path, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    scalars = {tag: [[event.step, number(event.value)] for event in accumulator.Scalars(tag)]
               for tag in tags[event_accumulator.SCALARS]}
    histograms = {}
    for tag in tags[event_accumulator.HISTOGRAMS]:
        histograms[tag] = [{
            "step": event.step,
            "num": number(event.histogram_value.num),
            "min": number(event.histogram_value.min),
            "max": number(event.histogram_value.max),
            "sum": number(event.histogram_value.sum),
            "sum_squares": number(event.histogram_value.sum_squares),
            "buckets": len(event.histogram_value.bucket),
            "bucket_total": number(sum(event.histogram_value.bucket)),
        } for event in accumulator.Histograms(tag)]
    files = sum(1 for name in os.listdir(path) if "tfevents" in name)
    return {"files": files, "scalars": scalars, "histograms": histograms}


def summary(runs):
    """Each run's tags: up to 8 step:value pairs of a scalar (the first 4 and the last 2 of a longer one), the steps
    of a histogram with its last count, least and greatest value."""
    for run, content in sorted(runs.items()):
        print(f"{run} ({content['files']} event file{'s' if content['files'] != 1 else ''})")
        for tag, points in sorted(content["scalars"].items()):
            shown = points if len(points) <= 8 else points[:4] + points[-2:]
            values = " ".join(f"{step}:{value:.4g}" if isinstance(value, float) else f"{step}:{value}" for step, value in shown)
            print(f"  {tag:<20} {values} ({len(points)} point{'s' if len(points) != 1 else ''})")
        for tag, histograms in sorted(content["histograms"].items()):
            last = histograms[-1]
            steps = ",".join(str(histogram["step"]) for histogram in histograms)
            print(f"  {tag:<20} histograms at steps {steps}; the last: {int(last['num'])} values in {last['min']:.4g}…{last['max']:.4g}")


def main():
    arguments = sys.argv[1:]
    brief = arguments[:1] == ["--summary"]
    if brief:
        arguments = arguments[1:]
    if len(arguments) != 1 or not os.path.isdir(arguments[0]):
        sys.exit("usage: read_tensorboard.py [--summary] LOGDIR (a directory)")
    logdir = arguments[0]
    runs = {}
    for directory, _, names in sorted(os.walk(logdir)):
        if any("tfevents" in name for name in names):
            runs[os.path.relpath(directory, logdir)] = read_run(directory)
    if brief:
        summary(runs)
    else:
        json.dump({"runs": runs}, sys.stdout, indent=1, sort_keys=True)
        print()


if __name__ == "__main__":
    main()
