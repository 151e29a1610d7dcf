#!/usr/bin/env python3
"""Render a Spindle scheduler trace as a timeline (SVG, and HTML around it)
and as Chrome trace-event JSON (for Perfetto and chrome://tracing).

    python3 tools/trace/render.py LOG OUT.svg [--title T] [--width PX]

LOG is a console log holding the output of `trace dump` or `trace run CMD`
(user/bin/trace.c); the last TRACE BEGIN ... TRACE END block is drawn. The
picture has one lane per hart; each interval is the thread that ran, coloured
by the priority class it was switched in with (the thresholds of pri_class()
in kernel/thread/klt.c) and labelled with its name or KLT id where wide
enough. Arrows show IPI messages (sender hart to target hart) and wake-ups
(where a thread was made runnable to where it next ran); a red triangle marks
a preemption by an interrupt thread, a black bar a thread blocking, a
purple diamond a signal taken (delivered at the return to user mode).
OUT.html (same name, .html) holds the SVG and a per-thread summary table;
OUT.json the same events in the Chrome trace-event format: a track per hart
with the thread that ran (KLT, process/LWP name, user thread), a track per
user thread the library reported, IPIs and wake-ups as flow arrows, blocks
and preemptions as instant events.

The parser (parse_log) is used by tests/groups/trace.py too. Python 3
standard library only; see docs/trace.md.
"""
import argparse
import html
import json
import os
import re
import sys

TYPES = ("switch", "wake", "ipi", "preempt", "block", "upcall", "signal")
# Scheduler-activation events (kernel/uapi/upcall.h), by type number.
UPCALLS = {1: "NEWLWP", 2: "PREEMPTED", 3: "BLOCKED", 4: "UNBLOCKED", 5: "RELEASED"}

# pri_class() of kernel/thread/klt.c, high to low: (lowest priority, class).
CLASSES = [(28, "intr"), (14, "soft"), (12, "kern"), (10, "ukern"), (1, "user"), (0, "idle")]
COLOURS = {
    "intr": "#d62728", "soft": "#ff7f0e", "kern": "#9467bd",
    "ukern": "#1f77b4", "user": "#2ca02c", "idle": "#e6e6e6",
}
CLASS_TEXT = {
    "intr": "hardware interrupt thread", "soft": "software interrupt thread",
    "kern": "kernel-only thread", "ukern": "user thread in the kernel",
    "user": "user thread at user level", "idle": "idle",
}
TICK_HZ = 10_000_000      # the time CSR of QEMU virt


def pri_class(pri):
    for low, name in CLASSES:
        if pri >= low:
            return name
    return "idle"


class Record:
    __slots__ = ("cpu", "time", "type", "klt", "other", "lwp", "pri", "pid", "utid")

    def __init__(self, cpu, time, type_, klt, other, lwp, pri, pid=0, utid=-1):
        self.cpu, self.time, self.type = cpu, time, type_
        self.klt, self.other, self.lwp, self.pri = klt, other, lwp, pri
        self.pid, self.utid = pid, utid

    def __repr__(self):
        return "T %d %d %s %d %d %d %d" % (self.cpu, self.time, self.type, self.klt,
                                           self.other, self.lwp, self.pri)


class Trace:
    """One dump: records (per CPU, oldest first) and the names known."""

    def __init__(self):
        self.records = []          # every Record, in dump order
        self.names = {}            # klt id -> (pid, lwp id, process name)
        self.pids = {}             # pid -> process name (from the N lines)
        self.kernel_names = {}     # klt id -> name, from a Ctrl-p dump
        self.complete = False      # TRACE END seen
        self.ring_full = set()     # CPUs whose ring wrapped

    def cpus(self):
        return sorted({r.cpu for r in self.records})

    def by_cpu(self, cpu):
        return sorted((r for r in self.records if r.cpu == cpu), key=lambda r: r.time)

    def name(self, klt, pri=None, lwp=0, pid=0):
        if pid and pid in self.pids and lwp:
            return "%s/%d" % (self.pids[pid], lwp - 1)
        if klt in self.names:
            pid, lwp, pname = self.names[klt]
            return "%s/%d" % (pname, lwp)
        if klt in self.kernel_names:
            return self.kernel_names[klt]
        if pri == 0:
            return "idle"
        if lwp:
            return "klt %d/lwp %d" % (klt, lwp - 1)
        return "klt %d" % klt


T_LINE = re.compile(r"^T (\d+) (\d+) (\w+) (\d+) (\d+) (\d+) (\d+)(?: (-?\d+) (-?\d+))?\s*$")
N_LINE = re.compile(r"^N (\d+) (-?\d+) (-?\d+) (\S+)\s*$")
K_LINE = re.compile(r"^klt (\d+) (\S+) cpu -?\d+ pri \d+ ")     # Ctrl-p (klt_dump)
FULL = re.compile(r"^# cpu (\d+): ring full")


def parse_log(text):
    """Every trace dump found in a console log, oldest first (a list of Trace).
    Lines may carry '\\r'; anything that is not part of a dump is skipped,
    except Ctrl-p `klt ID NAME cpu ...` lines, which name kernel threads."""
    traces, cur, kernel_names = [], None, {}
    for raw in text.splitlines():
        line = raw.strip("\r")
        if line.startswith("TRACE BEGIN"):
            cur = Trace()
            traces.append(cur)
            continue
        m = K_LINE.match(line)
        if m and " lwp " not in line:      # kernel-only: LWP KLTs keep stale names
            kernel_names[int(m.group(1))] = m.group(2)
            continue
        if cur is None:
            continue
        if line.startswith("TRACE END"):
            cur.complete = True
            cur = None
            continue
        m = T_LINE.match(line)
        if m and m.group(3) in TYPES:
            g = m.groups()
            cur.records.append(Record(int(g[0]), int(g[1]), g[2], int(g[3]), int(g[4]),
                                      int(g[5]), int(g[6]), int(g[7] or 0),
                                      int(g[8] if g[8] is not None else -1)))
            continue
        m = N_LINE.match(line)
        if m:
            cur.names[int(m.group(1))] = (int(m.group(2)), int(m.group(3)), m.group(4))
            cur.pids[int(m.group(2))] = m.group(4)
            continue
        m = FULL.match(line)
        if m:
            cur.ring_full.add(int(m.group(1)))
    for t in traces:
        t.kernel_names.update(kernel_names)
    return traces


# ---- from records to intervals ---------------------------------------------------
class Interval:
    __slots__ = ("cpu", "start", "end", "klt", "pri", "lwp", "pid", "utid", "how_end")

    def __init__(self, cpu, start, klt, pri, lwp, pid=0, utid=-1):
        self.cpu, self.start, self.end = cpu, start, None
        self.klt, self.pri, self.lwp = klt, pri, lwp
        self.pid, self.utid = pid, utid
        self.how_end = "end"


def intervals(trace, t0, t1):
    """Per CPU, who ran from when to when: switch records open intervals; the
    first switch's 'from' thread ran since t0 (priority unknown: taken from
    another record of it, else idle)."""
    known_pri = {}
    for r in trace.records:
        if r.type in ("switch", "wake", "block", "preempt"):
            known_pri.setdefault(r.klt, r.pri)
    out = {}
    for cpu in trace.cpus():
        recs = trace.by_cpu(cpu)
        lane, cur = [], None
        for r in recs:
            if r.type == "switch":
                if cur is None:
                    cur = Interval(cpu, t0, r.other, known_pri.get(r.other, 0), 0)
                cur.end = r.time
                lane.append(cur)
                cur = Interval(cpu, r.time, r.klt, r.pri, r.lwp, r.pid, r.utid)
            elif r.type in ("block", "preempt") and cur is not None and r.type == "block":
                cur.how_end = "block"
        if cur is not None:
            cur.end = t1
            lane.append(cur)
        out[cpu] = lane
    return out


def summary(trace, lanes):
    """Per thread: time on CPU (ticks), times switched in, blocks, wake-ups."""
    rows = {}
    for lane in lanes.values():
        for iv in lane:
            row = rows.setdefault(iv.klt, {"ticks": 0, "switches": 0, "blocks": 0, "wakes": 0,
                                           "pri": iv.pri, "lwp": iv.lwp, "pid": iv.pid,
                                           "cpus": set()})
            row["ticks"] += iv.end - iv.start
            row["cpus"].add(iv.cpu)
    for r in trace.records:
        if r.type == "switch" and r.klt in rows:
            rows[r.klt]["switches"] += 1
        elif r.type in ("block", "wake") and r.klt in rows:
            rows[r.klt]["blocks" if r.type == "block" else "wakes"] += 1
    return rows


def next_switch_to(recs_c, i):
    """The switch that next runs the thread woken by recs_c[i] (same CPU:
    a thread is woken on the CPU that owns it), or None."""
    r = recs_c[i]
    return next((s for s in recs_c[i + 1:] if s.type == "switch" and s.klt == r.klt), None)


def ipi_arrival(trace, r):
    """When the target hart of IPI record r next records anything."""
    return next((s.time for s in trace.by_cpu(r.other) if s.time >= r.time), r.time)


# ---- Chrome trace-event JSON ------------------------------------------------------
HARTS_PID = 0      # the process whose threads are the harts' tracks


def chrome_events(trace):
    """The trace as Chrome trace events (the JSON object format's list):
    per hart (pid 0, tid = hart) an X slice per interval, named after the
    thread; per user process that reported user threads, a track per user
    thread (pid = its pid, tid = 1000 + user tid) with a slice while it was
    on an LWP; IPIs and wake-ups as flow events (s -> f); blocks and
    preemptions as instant events. Times in µs from the first record."""
    recs = trace.records
    t0 = min(r.time for r in recs)
    t1 = max(max(r.time for r in recs), t0 + 1)
    lanes = intervals(trace, t0, t1)

    def us(t):
        return (t - t0) * 1e6 / TICK_HZ

    ev = [{"ph": "M", "name": "process_name", "pid": HARTS_PID, "args": {"name": "harts"}}]
    for cpu in trace.cpus():
        ev.append({"ph": "M", "name": "thread_name", "pid": HARTS_PID, "tid": cpu,
                   "args": {"name": "hart %d" % cpu}})
        ev.append({"ph": "M", "name": "thread_sort_index", "pid": HARTS_PID, "tid": cpu,
                   "args": {"sort_index": cpu}})
    ult_tracks = set()
    for cpu, lane in lanes.items():
        for iv in lane:
            cls = pri_class(iv.pri)
            name = trace.name(iv.klt, iv.pri, iv.lwp, iv.pid)
            args = {"klt": iv.klt, "pri": iv.pri, "class": CLASS_TEXT[cls]}
            if iv.lwp:
                args.update(pid=iv.pid, lwp=iv.lwp - 1)
            if iv.utid >= 0:
                args["user thread"] = iv.utid
            ev.append({"ph": "X", "pid": HARTS_PID, "tid": cpu, "ts": us(iv.start),
                       "dur": us(iv.end) - us(iv.start), "name": name, "cat": cls, "args": args})
            if iv.utid >= 0 and iv.pid:
                ult_tracks.add((iv.pid, iv.utid))
                ev.append({"ph": "X", "pid": iv.pid, "tid": 1000 + iv.utid, "ts": us(iv.start),
                           "dur": us(iv.end) - us(iv.start), "name": "on %s, hart %d" % (name, cpu),
                           "cat": "user thread", "args": {"klt": iv.klt, "hart": cpu}})
    for pid in sorted({p for p, _ in ult_tracks}):
        ev.append({"ph": "M", "name": "process_name", "pid": pid,
                   "args": {"name": "%s (pid %d): user threads" % (trace.pids.get(pid, "?"), pid)}})
    for pid, tid in sorted(ult_tracks):
        ev.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": 1000 + tid,
                   "args": {"name": "user thread %d" % tid}})
    flow = 0
    for r in recs:
        if r.type == "ipi" and r.other in lanes:
            flow += 1
            ev.append({"ph": "s", "id": flow, "pid": HARTS_PID, "tid": r.cpu, "ts": us(r.time),
                       "name": "IPI", "cat": "ipi"})
            ev.append({"ph": "f", "bp": "e", "id": flow, "pid": HARTS_PID, "tid": r.other,
                       "ts": us(ipi_arrival(trace, r)), "name": "IPI", "cat": "ipi"})
        elif r.type in ("block", "preempt"):
            who = trace.name(r.klt, r.pri, r.lwp, r.pid)
            ev.append({"ph": "i", "s": "t", "pid": HARTS_PID, "tid": r.cpu, "ts": us(r.time),
                       "name": "%s blocks" % who if r.type == "block" else "preempted by %s" % who,
                       "cat": r.type, "args": {"klt": r.klt}})
        elif r.type == "upcall":
            who = trace.name(r.klt, r.pri, r.lwp, r.pid)
            ev.append({"ph": "i", "s": "t", "pid": HARTS_PID, "tid": r.cpu, "ts": us(r.time),
                       "name": "upcall %s posted by %s" % (UPCALLS.get(r.other, r.other), who),
                       "cat": "upcall", "args": {"klt": r.klt, "event": r.other}})
        elif r.type == "signal":
            who = trace.name(r.klt, r.pri, r.lwp, r.pid)
            ev.append({"ph": "i", "s": "t", "pid": HARTS_PID, "tid": r.cpu, "ts": us(r.time),
                       "name": "signal %d taken by %s" % (r.other, who),
                       "cat": "signal", "args": {"klt": r.klt, "signal": r.other}})
    for cpu in trace.cpus():
        recs_c = trace.by_cpu(cpu)
        for i, r in enumerate(recs_c):
            if r.type != "wake":
                continue
            nxt = next_switch_to(recs_c, i)
            if nxt is None:
                continue
            flow += 1
            name = "wake %s" % trace.name(r.klt, r.pri, r.lwp, r.pid)
            ev.append({"ph": "s", "id": flow, "pid": HARTS_PID, "tid": cpu, "ts": us(r.time),
                       "name": name, "cat": "wake"})
            ev.append({"ph": "f", "bp": "e", "id": flow, "pid": HARTS_PID, "tid": cpu,
                       "ts": us(nxt.time), "name": name, "cat": "wake"})
    return ev


def render_chrome(trace, title):
    """The JSON text Perfetto (ui.perfetto.dev) and chrome://tracing open."""
    return json.dumps({"traceEvents": chrome_events(trace), "displayTimeUnit": "ns",
                       "otherData": {"title": title, "tick_hz": TICK_HZ}}, indent=0) + "\n"


# ---- SVG -----------------------------------------------------------------------
def esc(s):
    return html.escape(str(s), quote=True)


CLOCK_TEXT = {True: "under -icount shift=0 one tick = 100 guest instructions",
              False: "without -icount: QEMU's clock follows the host, ticks are not instructions",
              None: "one tick = 100 guest instructions only if QEMU ran with -icount shift=0"}


def klt_legend(trace, lanes, width, left, right):
    """Rows of (x, text) naming each KLT that ran (narrow intervals show
    only its number), wrapped to the picture's width."""
    seen = {}
    for cpu in lanes:
        for iv in lanes[cpu]:
            seen.setdefault(iv.klt, trace.name(iv.klt, iv.pri, iv.lwp, iv.pid))
    rows, lx = [[]], left + 60
    for klt in sorted(seen):
        text = "%d %s" % (klt, seen[klt])
        w = 6 * len(text) + 16
        if lx + w > width - right and rows[-1]:
            rows.append([])
            lx = left + 60
        rows[-1].append((lx, text))
        lx += w
    return rows if rows[0] else []


def render_svg(trace, title="Spindle scheduler trace", width=1400, icount=None):
    """The timeline as SVG text, and the intervals it drew. icount: whether
    QEMU ran with -icount (None: not known), said in the subtitle."""
    recs = trace.records
    if not recs:
        raise ValueError("the trace holds no records")
    t0 = min(r.time for r in recs)
    t1 = max(r.time for r in recs)
    if t1 == t0:
        t1 = t0 + 1
    lanes = intervals(trace, t0, t1)
    cpus = trace.cpus()
    left, right, top, lane_h, gap = 110, 20, 62, 46, 26
    plot_w = width - left - right
    legend_rows = klt_legend(trace, lanes, width, left, right)
    height = top + len(cpus) * (lane_h + gap) + 80 + 16 * len(legend_rows)
    lane_y = {cpu: top + i * (lane_h + gap) for i, cpu in enumerate(cpus)}

    def x(t):
        return left + (t - t0) * plot_w / (t1 - t0)

    us = (t1 - t0) * 1e6 / TICK_HZ
    o = []
    o.append('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">'
             % (width, height, width, height))
    o.append('<defs><marker id="ah" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
             'fill="#222"/></marker><marker id="aw" viewBox="0 0 10 10" refX="9" refY="5" '
             'markerWidth="6" markerHeight="6" orient="auto-start-reverse">'
             '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>')
    o.append('<rect x="0" y="0" width="%d" height="%d" fill="white"/>' % (width, height))
    o.append('<text x="%d" y="20" font-size="15" font-weight="bold">%s</text>' % (left, esc(title)))
    o.append('<text x="%d" y="38" fill="#444">%d records on %d hart(s), %.1f µs of guest time '
             '(%d time-CSR ticks; %s)</text>'
             % (left, len(recs), len(cpus), us, t1 - t0, esc(CLOCK_TEXT[icount])))

    # time axis: about 10 ticks with round numbers of µs
    step = 10 ** len(str(int(max(us / 10, 1)))) / 10
    for mult in (1, 2, 5, 10):
        if us / (step * mult) <= 12:
            step *= mult
            break
    axis_y = top + len(cpus) * (lane_h + gap) - gap + 14
    k = 0
    while k * step <= us + 1e-9:
        xx = x(t0 + k * step * TICK_HZ / 1e6)
        o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>'
                 % (xx, top - 6, xx, axis_y - 8))
        o.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#444">%g µs</text>'
                 % (xx, axis_y + 4, round(k * step, 3)))
        k += 1

    for cpu in cpus:
        y = lane_y[cpu]
        label = "hart %d" % cpu + (" (wrapped)" if cpu in trace.ring_full else "")
        o.append('<text x="8" y="%d" font-weight="bold">%s</text>' % (y + lane_h / 2 + 4, esc(label)))
        o.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>'
                 % (left, y, plot_w, lane_h))
        for iv in lanes[cpu]:
            x0, x1 = x(iv.start), x(iv.end)
            w = max(x1 - x0, 0.6)
            cls = pri_class(iv.pri)
            name = trace.name(iv.klt, iv.pri, iv.lwp, iv.pid)
            tip = "%s (klt %d%s) pri %d %s, %.2f µs from %.2f µs" % (
                name, iv.klt, ", user thread %d" % iv.utid if iv.utid >= 0 else "", iv.pri,
                CLASS_TEXT[cls], (iv.end - iv.start) * 1e6 / TICK_HZ,
                (iv.start - t0) * 1e6 / TICK_HZ)
            o.append('<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s" stroke="%s" '
                     'stroke-width="0.3"><title>%s</title></rect>'
                     % (x0, y + 8, w, lane_h - 16, COLOURS[cls],
                        "#888" if cls == "idle" else "white", esc(tip)))
            text = name if cls != "idle" else "idle"
            if w >= 6.2 * len(text) + 6:
                o.append('<text x="%.1f" y="%d" text-anchor="middle" fill="%s">%s</text>'
                         % ((x0 + x1) / 2, y + lane_h / 2 + 4,
                            "#555" if cls == "idle" else "white", esc(text)))
            elif w >= 6.2 * len(str(iv.klt)) + 4:
                o.append('<text x="%.1f" y="%d" text-anchor="middle" fill="%s">%d</text>'
                         % ((x0 + x1) / 2, y + lane_h / 2 + 4,
                            "#555" if cls == "idle" else "white", iv.klt))

    # markers: preemption (red triangle above the lane), blocking (black bar)
    for r in recs:
        y = lane_y[r.cpu]
        xx = x(r.time)
        if r.type == "preempt":
            o.append('<path d="M%.1f,%d l-4,-7 l8,0 z" fill="#d62728"><title>preempted by '
                     '%s (klt %d)</title></path>' % (xx, y + 7, esc(trace.name(r.klt, r.pri, r.lwp, r.pid)),
                                                     r.klt))
        elif r.type == "block":
            o.append('<rect x="%.1f" y="%d" width="2" height="8" fill="#111"><title>%s (klt %d) '
                     'blocks</title></rect>' % (xx - 1, y + lane_h - 8,
                                                esc(trace.name(r.klt, r.pri, r.lwp, r.pid)),
                                                r.klt))
        elif r.type == "upcall":
            o.append('<circle cx="%.1f" cy="%d" r="3" fill="#17becf"><title>upcall %s posted by '
                     '%s (klt %d)</title></circle>' % (xx, y + lane_h - 4,
                                                      UPCALLS.get(r.other, r.other),
                                                      esc(trace.name(r.klt, r.pri, r.lwp, r.pid)),
                                                      r.klt))
        elif r.type == "signal":
            o.append('<path d="M%.1f,%d l4,4 l-4,4 l-4,-4 z" fill="#9467bd"><title>signal %d '
                     'taken by %s (klt %d)</title></path>' % (xx, y + lane_h - 9, r.other,
                                                              esc(trace.name(r.klt, r.pri, r.lwp, r.pid)),
                                                              r.klt))

    # wake-ups: from the wake record to where that thread next runs (same hart:
    # a thread is woken on the CPU that owns it), as an arc below the lane top
    for cpu in cpus:
        recs_c = trace.by_cpu(cpu)
        for i, r in enumerate(recs_c):
            if r.type != "wake":
                continue
            nxt = next_switch_to(recs_c, i)
            y = lane_y[cpu]
            xa = x(r.time)
            o.append('<circle cx="%.1f" cy="%d" r="2.2" fill="#555"><title>wake %s (klt %d)'
                     '</title></circle>' % (xa, y + 4, esc(trace.name(r.klt, r.pri, r.lwp, r.pid)),
                                            r.klt))
            if nxt is not None and x(nxt.time) - xa > 3:
                xb = x(nxt.time)
                o.append('<path d="M%.1f,%d Q%.1f,%d %.1f,%d" fill="none" stroke="#555" '
                         'stroke-dasharray="3,2" marker-end="url(#aw)"/>'
                         % (xa, y + 4, (xa + xb) / 2, y - 8, xb, y + 6))

    # IPIs: sender hart at the send to the target hart at its next record
    for r in recs:
        if r.type != "ipi" or r.other not in lane_y:
            continue
        arrive = ipi_arrival(trace, r)
        ya, yb = lane_y[r.cpu], lane_y[r.other]
        ya, yb = (ya + lane_h, yb) if yb > ya else (ya, yb + lane_h)
        o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222" stroke-width="1.1" '
                 'marker-end="url(#ah)"><title>IPI message hart %d to hart %d</title></line>'
                 % (x(r.time), ya, x(arrive), yb, r.klt, r.other))

    # legend: classes and markers, then the KLTs by number
    ly = height - 30 - 16 * len(legend_rows)
    lx = left
    for cls in ("intr", "soft", "kern", "ukern", "user", "idle"):
        o.append('<rect x="%d" y="%d" width="12" height="12" fill="%s" stroke="#888" '
                 'stroke-width="0.3"/>' % (lx, ly, COLOURS[cls]))
        o.append('<text x="%d" y="%d">%s</text>' % (lx + 16, ly + 10, esc(CLASS_TEXT[cls])))
        lx += 24 + 6 * len(CLASS_TEXT[cls])
    o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#222" marker-end="url(#ah)"/>'
             % (lx, ly + 6, lx + 24, ly + 6))
    o.append('<text x="%d" y="%d">IPI</text>' % (lx + 28, ly + 10))
    lx += 58
    o.append('<path d="M%d,%d Q%d,%d %d,%d" fill="none" stroke="#555" stroke-dasharray="3,2" '
             'marker-end="url(#aw)"/>' % (lx, ly + 10, lx + 12, ly - 2, lx + 24, ly + 10))
    o.append('<text x="%d" y="%d">wake-up</text>' % (lx + 28, ly + 10))
    lx += 82
    o.append('<path d="M%d,%d l-4,-7 l8,0 z" fill="#d62728"/>' % (lx + 4, ly + 10))
    o.append('<text x="%d" y="%d">preemption</text>' % (lx + 14, ly + 10))
    lx += 88
    o.append('<rect x="%d" y="%d" width="2" height="10" fill="#111"/>' % (lx, ly + 1))
    o.append('<text x="%d" y="%d">block</text>' % (lx + 8, ly + 10))
    for i, row in enumerate(legend_rows):
        y = ly + 28 + 16 * i
        if i == 0:
            o.append('<text x="%d" y="%d" font-weight="bold">KLTs</text>' % (left, y))
        for lx, text in row:
            o.append('<text x="%d" y="%d" class="klt">%s</text>' % (lx, y, esc(text)))
    o.append('</svg>')
    return "\n".join(o) + "\n", lanes


def render_html(trace, svg, lanes, title):
    rows = summary(trace, lanes)
    total = sum(r["ticks"] for r in rows.values()) or 1
    body = ["<tr><th>klt</th><th>name</th><th>class</th><th>harts</th><th>on CPU (µs)</th>"
            "<th>share</th><th>switched in</th><th>blocks</th><th>wake-ups</th></tr>"]
    for klt, r in sorted(rows.items(), key=lambda kv: -kv[1]["ticks"]):
        body.append("<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%.2f</td><td>%.1f%%</td>"
                    "<td>%d</td><td>%d</td><td>%d</td></tr>"
                    % (klt, esc(trace.name(klt, r["pri"], r["lwp"], r["pid"])), pri_class(r["pri"]),
                       " ".join(str(c) for c in sorted(r["cpus"])), r["ticks"] * 1e6 / TICK_HZ,
                       100.0 * r["ticks"] / total, r["switches"], r["blocks"], r["wakes"]))
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n"
            "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
            "td:nth-child(2){text-align:left}</style></head><body>\n"
            "<h1>%s</h1>\n<p>Hover over an interval or marker for details. "
            "See docs/trace.md for how to read this picture.</p>\n%s\n"
            "<h2>Threads</h2>\n<table>\n%s\n</table>\n</body></html>\n"
            % (esc(title), esc(title), svg, "\n".join(body)))


def render_files(log_text, out_svg, title=None, width=1400, icount=None):
    """Parse the last dump of log_text, write out_svg and the .html and .json
    beside it; return (trace, html path). icount as for render_svg."""
    traces = [t for t in parse_log(log_text) if t.records]
    if not traces:
        raise ValueError("no trace dump with records in the log (run `trace run CMD`)")
    trace = traces[-1]
    title = title or "Spindle scheduler trace"
    svg, lanes = render_svg(trace, title, width, icount)
    with open(out_svg, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n' + svg)
    out_html = os.path.splitext(out_svg)[0] + ".html"
    with open(out_html, "w", encoding="utf-8") as f:
        f.write(render_html(trace, svg, lanes, title))
    with open(os.path.splitext(out_svg)[0] + ".json", "w", encoding="utf-8") as f:
        f.write(render_chrome(trace, title))
    return trace, out_html


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", help="console log with the output of `trace dump` or `trace run`")
    ap.add_argument("out", help="the SVG to write (the .html goes beside it)")
    ap.add_argument("--title", default=None)
    ap.add_argument("--width", type=int, default=1400)
    a = ap.parse_args()
    with open(a.log, encoding="utf-8", errors="replace") as f:
        text = f.read()
    try:
        trace, out_html = render_files(text, a.out, a.title, a.width)
    except ValueError as e:
        print("render: %s" % e, file=sys.stderr)
        return 1
    per_cpu = ", ".join("hart %d: %d switches" % (c, sum(1 for r in trace.by_cpu(c)
                                                          if r.type == "switch"))
                        for c in trace.cpus())
    print("render: %d records (%s)" % (len(trace.records), per_cpu))
    print(a.out)
    print(out_html)
    print(os.path.splitext(a.out)[0] + ".json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
