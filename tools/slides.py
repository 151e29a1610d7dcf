#!/usr/bin/env python3
"""Lecture slides from the docs' diagrams: one slide per Mermaid diagram or
SVG picture of README.md, docs/*.md and labs/*/README.md, in one
self-contained XHTML page (no network, no Mermaid tools: the three kinds of
diagram the docs use are drawn here, as SVG).

    python3 tools/slides.py [--out build/slides]      (make slides)

Owns the drawing of `sequenceDiagram`, `flowchart`/`graph` and
`classDiagram` blocks; touches nothing but the output folder. A diagram of
another kind is shown as its source, and counted, so a test can insist on
none. A diagram inside a `LAB x` solution region is titled as lab x's
solution: shown to students only after that lab is due.

The layout is deliberately simple: sequence diagrams in columns, flowcharts
in layers (longest path from a root, cycles broken where a depth-first walk
meets them), nodes of one subgraph sharing a colour, named in a legend.
Text is monospace so widths can be computed without a font.
"""
import argparse
import glob
import html
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The lectures of docs/teaching/schedule.md and the pages whose diagrams
# they show, in order; the diagrams of other pages follow, under "More".
LECTURES = [
    ("L1, L2: proc, LWP and KLT; the LWKT scheduler",
     ["docs/README.md", "docs/locking.md", "docs/perf.md"]),
    ("L3, L4: M:N threads and the concurrency level",
     ["docs/uthread.md", "docs/trace.md", "labs/concurrency/README.md"]),
    ("L5, L6: scheduler activations", ["docs/upcalls.md", "labs/upcalls/README.md"]),
    ("L7, L8: spin or block", ["docs/adaptive.md", "labs/adaptive/README.md"]),
    ("L9, L10: signals", ["docs/signals.md", "labs/signals/README.md"]),
]
INSTRUCTOR_ONLY = "<!-- instructor only -->"
CH = 7.2          # width of a character of 12px monospace
LINE = 16         # height of a line of text
PALETTE = ["#e8f0fe", "#fde8e8", "#e6f4ea", "#fef7e0", "#f3e8fd", "#e0f7fa", "#fce4ec"]


def esc(s):
    return html.escape(s, quote=True)


def wrap(text, width):
    """Lines of at most width characters (a longer word stays whole)."""
    lines = []
    for part in text.split("\n"):
        line = ""
        for word in part.split():
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = line + " " + word if line else word
        lines.append(line)
    return lines


def text_block(lines, x, y, anchor="middle", cls=""):
    """SVG <text> lines, the first baseline at y."""
    out = []
    for i, line in enumerate(lines):
        out.append('<text x="%.1f" y="%.1f" text-anchor="%s"%s>%s</text>'
                   % (x, y + i * LINE, anchor, ' class="%s"' % cls if cls else "", esc(line)))
    return "".join(out)


def svg(width, height, body):
    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d">'
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>'
            '</defs>%s</svg>' % (width, height, width, height, body))


def label_text(s):
    """A Mermaid label as plain text: quotes off, <br/> as a new line."""
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] == '"':
        s = s[1:-1]
    s = re.sub(r"<br\s*/?>", "\n", s)
    return html.unescape(re.sub(r"</?\w+[^>]*>", "", s))


# ---- sequence diagrams ------------------------------------------------------

NAME = r"(\w+(?:-\w+)*)"         # a participant: R-1, not the R- of R-->>A
SEQ_MSG = re.compile(r"^%s\s*(-->>|->>|-->|->|--x|-x|--\)|-\))\s*%s\s*:\s*(.*)$" % (NAME, NAME))
SEQ_NOTE = re.compile(r"^Note\s+(over|left of|right of)\s+([\w-]+)(?:\s*,\s*([\w-]+))?\s*:\s*(.*)$", re.I)
SEQ_PART = re.compile(r"^(?:participant|actor)\s+([\w-]+)(?:\s+as\s+(.*))?$")


def sequence(lines):
    parts, labels, rows = [], {}, []

    def part(name):
        if name not in labels:
            parts.append(name)
            labels[name] = name

    for line in lines:
        m = SEQ_PART.match(line)
        if m:
            part(m.group(1))
            labels[m.group(1)] = label_text(m.group(2) or m.group(1))
            continue
        m = SEQ_MSG.match(line)
        if m:
            part(m.group(1))
            part(m.group(3))
            rows.append(("msg", m.group(1), m.group(3), m.group(2).startswith("--"), label_text(m.group(4))))
            continue
        m = SEQ_NOTE.match(line)
        if m:
            part(m.group(2))
            if m.group(3):
                part(m.group(3))
            rows.append(("note", m.group(1).lower(), m.group(2), m.group(3), label_text(m.group(4))))
    gap = 170.0
    for r in rows:       # room for each message between its two columns
        if r[0] == "msg":
            span = abs(parts.index(r[1]) - parts.index(r[2])) or 1
            gap = max(gap, min(280.0, (len(r[4]) * CH / 2 + 24) / span))
    head_lines = {p: wrap(labels[p], int(gap / CH) - 2) for p in parts}
    head_h = max(len(v) for v in head_lines.values()) * LINE + 14
    x = {p: gap / 2 + 10 + i * gap for i, p in enumerate(parts)}
    body, y = [], head_h + 24
    for r in rows:
        if r[0] == "msg":
            _, a, b, dashed, text = r
            if a == b:
                tl = wrap(text, int((gap - 30) / CH))
                h = len(tl) * LINE
                body.append('<path d="M%.1f,%.1f h24 v%.1f h-24" class="msg" marker-end="url(#arrow)"/>'
                            % (x[a], y + h - 8, 12))
                body.append(text_block(tl, x[a] + 30, y + 4, "start"))
                y += h + 20
                continue
            span = abs(x[a] - x[b])
            tl = wrap(text, max(12, int((span - 16) / CH)))
            h = len(tl) * LINE
            body.append(text_block(tl, (x[a] + x[b]) / 2, y))
            ly = y + h - 6
            body.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="msg%s" marker-end="url(#arrow)"/>'
                        % (x[a], ly, x[b], ly, " dashed" if dashed else ""))
            y += h + 14
        else:
            _, where, a, b, text = r
            if where == "over":
                left = min(x[a], x[b or a]) - gap / 2 + 12
                right = max(x[a], x[b or a]) + gap / 2 - 12
            elif where == "left of":
                left, right = x[a] - gap + 12, x[a] - 8
            else:
                left, right = x[a] + 8, x[a] + gap - 12
            tl = wrap(text, max(12, int((right - left - 12) / CH)))
            h = len(tl) * LINE + 8
            body.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="note"/>'
                        % (left, y - 4, right - left, h))
            body.append(text_block(tl, (left + right) / 2, y + 10))
            y += h + 10
    selfs = [len(r[4]) for r in rows if r[0] == "msg" and r[1] == r[2] == parts[-1]]
    extra = min(max(selfs), int((gap - 30) / CH)) * CH + 30 - gap / 2 if selfs else 0
    width = int(gap * len(parts) + 20 + max(0, extra))
    height = int(y + head_h + 10)
    out = []
    for p in parts:
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="life"/>' % (x[p], head_h, x[p], y))
        for top in (4, y):
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" class="head"/>'
                       % (x[p] - gap / 2 + 8, top, gap - 16, head_h - 6))
            out.append(text_block(head_lines[p], x[p], top + 16))
    return svg(width, height, "".join(out + body)), [labels[p] for p in parts]


# ---- flowcharts and class diagrams -------------------------------------------

NODE = re.compile(r'^([\w-]+)\s*(\(\[|\[\(|\[\[|\(\(|\{\{|\[|\(|\{|>)(.*?)(\]\)|\)\]|\]\]|\)\)|\}\}|\]|\)|\})$')
EDGE = re.compile(r'\s*(?:--\s+([^->|][^|]*?)\s*-->|-\.\s+(.*?)\s*\.->|==\s+(.*?)\s*==>|'
                  r'(<\|--|\*--|o--|-->|---|-\.->|-\.-|==>|--x|--o|\.\.>|\.\.\|>|\.\.)(?:\|([^|]*)\|)?)\s*')


class Graph:
    def __init__(self):
        self.nodes = {}         # id -> [lines]
        self.order = []
        self.group = {}         # id -> subgraph label
        self.edges = []         # (a, b, label, dashed)

    def node(self, nid, lines=None, group=None):
        if nid not in self.nodes:
            self.nodes[nid] = lines or [nid]
            self.order.append(nid)
        elif lines:
            self.nodes[nid] = lines
        if group and nid not in self.group:
            self.group[nid] = group


def node_ref(g, text, group):
    """Declare the node written as text (`id`, `id["label"]`, ...); its id."""
    text = text.strip()
    m = NODE.match(text)
    if m:
        g.node(m.group(1), label_text(m.group(3)).split("\n"), group)
        return m.group(1)
    nid = re.sub(r"\W", "_", text) or "_"
    g.node(nid, None, group)
    return nid


def split_outside(text):
    """Split a flowchart statement at its edges (not inside brackets or
    quotes): [node, (label, dashed), node, ...]."""
    out, depth, quote, i, start = [], 0, False, 0, 0
    while i < len(text):
        c = text[i]
        if c == '"':
            quote = not quote
        elif not quote and c in "[({":
            depth += 1
        elif not quote and c in "])}":
            depth -= 1
        elif not quote and depth == 0:
            m = EDGE.match(text, i)
            if m and m.group(0).strip():
                out.append(text[start:i])
                label = next((x for x in (m.group(1), m.group(2), m.group(3), m.group(5)) if x), "")
                arrow = m.group(4) or ""
                out.append((label_text(label), "." in arrow or m.group(2) is not None))
                i = start = m.end()
                continue
        i += 1
    out.append(text[start:])
    return out


def flowchart(lines):
    g = Graph()
    direction = "TD"
    m = re.match(r"^(?:flowchart|graph)\s+(\w+)", lines[0]) if lines else None
    if m:
        direction = m.group(1).upper()
    stack, subgraph_ids = [], {}
    for line in lines[1:]:
        line = line.strip().rstrip(";")
        if not line or line.startswith("%%") or re.match(r"^(classDef|class|style|linkStyle|direction|click)\b", line):
            continue
        m = re.match(r'^subgraph\s+([\w-]+)\s*(?:\[(.*)\])?\s*$', line)
        if m:
            label = label_text(m.group(2) or m.group(1))
            stack.append(label)
            subgraph_ids[m.group(1)] = label
            continue
        if line == "end":
            if stack:
                stack.pop()
            continue
        group = stack[-1] if stack else None
        pieces = split_outside(line)
        ids = [[node_ref(g, x, group) for x in p.split("&")] if isinstance(p, str) else p for p in pieces]
        for i in range(1, len(ids) - 1, 2):
            label, dashed = ids[i]
            for a in ids[i - 1]:
                for b in ids[i + 1]:
                    g.edges.append((a, b, label, dashed))
    # An edge to a subgraph goes to its first node.
    for sid, label in subgraph_ids.items():
        members = [n for n in g.order if g.group.get(n) == label and n != sid]
        if sid in g.nodes and members:
            g.edges = [(members[0] if a == sid else a, members[0] if b == sid else b, t, d)
                       for a, b, t, d in g.edges]
            g.order.remove(sid)
            del g.nodes[sid]
    return draw_graph(g, direction)


CLASS_REL = re.compile(r'^([\w-]+)\s*(?:"([^"]*)")?\s*(<\|--|--\|>|\*--|o--|-->|<--|--|\.\.>|\.\.)\s*(?:"([^"]*)")?\s*([\w-]+)\s*(?::\s*(.*))?$')


def class_diagram(lines):
    g = Graph()
    body = " ".join(lines[1:])
    for m in re.finditer(r"class\s+([\w-]+)\s*\{([^}]*)\}", body):
        members = [x.strip() for x in re.split(r"[;\n]|\s{2,}", m.group(2)) if x.strip()]
        g.node(m.group(1), [m.group(1), "-" * max(len(m.group(1)), 8)] + members)
    for line in lines[1:]:
        m = CLASS_REL.match(line.strip())
        if m:
            a, b = m.group(1), m.group(5)
            for n in (a, b):
                g.node(n)
            label = " ".join(x for x in (m.group(2), m.group(6), m.group(4)) if x)
            g.edges.append((a, b, label, ".." in m.group(3)))
    return draw_graph(g, "LR")


def layers(g):
    """{node: layer}: longest path from a root, back edges left out."""
    succ = {n: [] for n in g.order}
    for a, b, _, _ in g.edges:
        if a != b:
            succ[a].append(b)
    state, back = {}, set()

    def visit(n):
        state[n] = 1
        for s in succ[n]:
            if state.get(s) == 1:
                back.add((n, s))
            elif s not in state:
                visit(s)
        state[n] = 2
    for n in g.order:
        if n not in state:
            visit(n)
    layer = {n: 0 for n in g.order}
    for _ in range(len(g.order)):
        changed = False
        for a in g.order:
            for b in succ[a]:
                if (a, b) not in back and layer[b] < layer[a] + 1:
                    layer[b] = layer[a] + 1
                    changed = True
        if not changed:
            break
    return layer


def draw_graph(g, direction):
    if not g.order:
        return svg(10, 10, ""), []
    layer = layers(g)
    size = {}
    for n, lines in g.nodes.items():
        wrapped = [w for line in lines for w in wrap(line, 34)]
        g.nodes[n] = wrapped
        size[n] = (max(len(x) for x in wrapped) * CH + 20, len(wrapped) * LINE + 12)
    rows = {}
    for n in g.order:
        rows.setdefault(layer[n], []).append(n)
    groups = [x for x in dict.fromkeys(g.group.get(n) for n in g.order) if x]
    colour = {grp: PALETTE[i % len(PALETTE)] for i, grp in enumerate(groups)}
    horizontal = direction in ("LR", "RL")
    order_rows(g, rows, groups)
    if horizontal:      # room for the edges' labels between layers
        gap = max([90.0] + [min(len(e[2]), 24) * CH + 30 for e in g.edges])
    else:
        gap = max([60.0] + [len(wrap(e[2], 24)) * LINE + 36 for e in g.edges if e[2]])
    pos = place(rows, size, horizontal, gap)
    width = max(pos[n][0] + size[n][0] / 2 for n in pos) + 20
    height = max(pos[n][1] + size[n][1] / 2 for n in pos) + 20
    out, labels = [], []
    for a, b, label, dashed in g.edges:
        if a == b:
            continue
        sx, sy = border(pos[a], size[a], pos[b])
        ex, ey = border(pos[b], size[b], pos[a])
        mx, my = (sx + ex) / 2, (sy + ey) / 2
        cls = "msg%s" % (" dashed" if dashed else "")
        if layer[b] - layer[a] == 1:
            out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="%s" marker-end="url(#arrow)"/>'
                       % (sx, sy, ex, ey, cls))
        else:       # a long or a backward edge bows out, away from the nodes between
            bow = 50.0 + 25 * abs(layer[b] - layer[a])
            dx, dy = ex - sx, ey - sy
            norm = max((dx * dx + dy * dy) ** 0.5, 1.0)
            side = 1 if layer[b] > layer[a] else -1
            cx, cy = mx + side * bow * dy / norm, my - side * bow * dx / norm
            out.append('<path d="M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f" class="%s" marker-end="url(#arrow)"/>'
                       % (sx, sy, cx, cy, ex, ey, cls))
            at = 0.5 / (layer[b] - layer[a]) if layer[b] > layer[a] else 0.5   # in the first gap
            mx = (1 - at) ** 2 * sx + 2 * (1 - at) * at * cx + at * at * ex
            my = (1 - at) ** 2 * sy + 2 * (1 - at) * at * cy + at * at * ey
        if label:
            lines = wrap(label, 24)
            w = max(len(x) for x in lines) * CH + 8
            labels.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%d" class="elabel"/>'
                          % (mx - w / 2, my - LINE + 2, w, len(lines) * LINE + 2))
            labels.append(text_block(lines, mx, my - 2))
            width = max(width, mx + w / 2 + 10)
    for n in g.order:
        (cx, cy), (w, h) = pos[n], size[n]
        fill = colour.get(g.group.get(n), "#ffffff")
        out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="6" class="node" fill="%s"/>'
                   % (cx - w / 2, cy - h / 2, w, h, fill))
        out.append(text_block(g.nodes[n], cx, cy - h / 2 + 18))
    out += labels
    legend_y = height
    for grp in groups:
        out.append('<rect x="20" y="%.1f" width="14" height="14" class="node" fill="%s"/>' % (legend_y, colour[grp]))
        out.append(text_block([grp], 42, legend_y + 12, "start"))
        legend_y += 20
    texts = [line for n in g.order for line in g.nodes[n]] + groups
    return svg(int(max(width, 200)), int(legend_y + 10), "".join(out)), texts


def order_rows(g, rows, groups):
    """Order each layer: a subgraph's nodes together, then by the mean rank
    of their neighbours in the layer above (two sweeps)."""
    def key0(n):
        return (groups.index(g.group[n]) if n in g.group else -1, g.order.index(n))
    for k in rows:
        rows[k].sort(key=key0)
    preds = {n: [a for a, b, _, _ in g.edges if b == n and a != n] for n in g.order}
    for _ in range(2):
        rank = {n: i for k in rows for i, n in enumerate(rows[k])}
        for k in sorted(rows)[1:]:
            def key(n):
                ps = [rank[p] for p in preds[n] if p in rank]
                return (key0(n)[0], sum(ps) / len(ps) if ps else rank[n], key0(n)[1])
            rows[k].sort(key=key)
            rank.update({n: i for i, n in enumerate(rows[k])})


def place(rows, size, horizontal, gap):
    """{node: centre}: layers one after another, each centred across."""
    span = {k: sum((size[n][1] + 24) if horizontal else (size[n][0] + 30) for n in rows[k]) for k in rows}
    widest = max(span.values())
    pos, along = {}, 20.0
    for k in sorted(rows):
        across = 20.0 + (widest - span[k]) / 2
        depth = max((size[n][0] if horizontal else size[n][1]) for n in rows[k])
        for n in rows[k]:
            w, h = size[n]
            if horizontal:
                pos[n] = (along + w / 2, across + h / 2)
                across += h + 24
            else:
                pos[n] = (across + w / 2, along + h / 2)
                across += w + 30
        along += depth + gap
    return pos


def border(centre, size, toward):
    """Where the line from centre toward another point leaves the box."""
    (cx, cy), (w, h), (tx, ty) = centre, size, toward
    dx, dy = tx - cx, ty - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min((w / 2) / abs(dx) if dx else float("inf"), (h / 2) / abs(dy) if dy else float("inf"))
    return cx + dx * scale, cy + dy * scale


# ---- collecting the slides ---------------------------------------------------

def draw(source):
    """(svg, texts it must show, kind) of a Mermaid block; svg None if the
    kind is not drawn here."""
    lines = [x.rstrip() for x in source.splitlines() if x.strip()]
    kind = lines[0].split()[0] if lines else ""
    if kind == "sequenceDiagram":
        picture, texts = sequence([x.strip() for x in lines[1:]])
    elif kind in ("flowchart", "graph"):
        picture, texts = flowchart(lines)
    elif kind == "classDiagram":
        picture, texts = class_diagram(lines)
    else:
        return None, [], kind
    return picture, texts, kind


def pages(root):
    """[(lecture, page, text)] of every page that is not instructor only."""
    listed = [(lecture, p) for lecture, ps in LECTURES for p in ps]
    rest = sorted(os.path.relpath(p, root) for pat in ("README.md", "docs/*.md", "labs/*/README.md")
                  for p in glob.glob(os.path.join(root, pat)))
    listed += [("More diagrams", p) for p in rest if p not in {q for _, q in listed}]
    out = []
    for lecture, rel in listed:
        if not os.path.exists(os.path.join(root, rel)):
            continue
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        if not text.startswith(INSTRUCTOR_ONLY):
            out.append((lecture, rel, text))
    return out


def diagrams(rel, text):
    """[(title, section, lab or None, "mermaid"|"svg", source or path, line)]."""
    found, title, section, lab, fence = [], rel, "", None, None
    for n, line in enumerate(text.splitlines(), 1):
        if fence is not None:
            if line.strip().startswith("```"):
                found.append((title, section, lab, "mermaid", "\n".join(fence), start))
                fence = None
            else:
                fence.append(line)
            continue
        m = re.match(r"^<!-- LAB (\S+) (BEGIN|END) -->$", line.strip())
        if m:
            lab = m.group(1) if m.group(2) == "BEGIN" else None
        elif line.strip() == "<!-- STUB -->":
            lab = None
        elif line.startswith("# "):
            title = line[2:].strip()
        elif line.startswith("## ") or line.startswith("### "):
            section = line.lstrip("#").strip()
        elif line.strip().startswith("```mermaid"):
            fence, start = [], n
        for alt, path in re.findall(r"!\[([^\]]*)\]\(([^)\s]+\.svg)\)", line):
            found.append((title, section or alt, lab, "svg", os.path.normpath(
                os.path.join(os.path.dirname(rel), path)), n))
    return found


def inline_svg(root, path):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)
    return re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)


STYLE = """
body { font-family: sans-serif; margin: 0; background: #f4f4f4; }
section { background: white; margin: 2em auto; padding: 1.5em 2em; max-width: 1200px;
          box-shadow: 0 1px 4px #aaa; page-break-after: always; }
h1 { font-size: 1.6em; margin: 0 0 0.2em 0; }
h2 { font-size: 1.1em; color: #555; margin: 0 0 1em 0; font-weight: normal; }
section.lecture { background: #335; color: white; padding: 4em 2em; }
.solution { color: #b00020; font-weight: bold; }
.figure svg { max-width: 100%; height: auto; }
.src { color: #777; font-size: 0.8em; margin-top: 1em; }
svg text { font-family: monospace; font-size: 12px; }
svg .msg { stroke: #333; stroke-width: 1.2; fill: none; }
svg .dashed { stroke-dasharray: 5 3; }
svg .life { stroke: #999; stroke-dasharray: 3 3; }
svg .head { fill: #e8f0fe; stroke: #335; }
svg .note { fill: #fff8c4; stroke: #aa9; }
svg .node { stroke: #335; }
svg .elabel { fill: white; stroke: none; }
"""


def build(root, out):
    """Write out/index.html; (slides, undrawn kinds)."""
    sections, undrawn, lecture_now = [], [], None
    for lecture, rel, text in pages(root):
        found = diagrams(rel, text)
        if found and lecture != lecture_now:
            sections.append('<section class="lecture"><h1>%s</h1></section>' % esc(lecture))
            lecture_now = lecture
        for title, section, lab, kind, source, line in found:
            if kind == "svg":
                picture = inline_svg(root, source)
            else:
                picture, _, what = draw(source)
                if picture is None:
                    undrawn.append("%s:%d (%s)" % (rel, line, what))
                    picture = "<pre>%s</pre>" % esc(source)
            note = (' <span class="solution">(lab %s solution: show after it is due)</span>' % esc(lab)
                    if lab else "")
            sections.append('<section class="slide" id="s%d"><h1>%s</h1><h2>%s%s</h2>'
                            '<div class="figure">%s</div><p class="src">%s:%d</p></section>'
                            % (len(sections) + 1, esc(section or title), esc(title), note, picture,
                               esc(rel), line))
    page = ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
            '<html xmlns="http://www.w3.org/1999/xhtml"><head><meta charset="utf-8"/>'
            '<title>Spindle: lecture diagrams</title><style>%s</style></head><body>'
            '<section><h1>Spindle: lecture diagrams</h1><h2>drawn from the docs by '
            'tools/slides.py (make slides): one slide per diagram, under the lectures of '
            'docs/teaching/schedule.md</h2></section>%s</body></html>\n'
            % (STYLE, "".join(sections)))
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "index.html"), "w", encoding="utf-8") as f:
        f.write(page)
    return sum('class="slide"' in s for s in sections), undrawn


def main(argv):
    ap = argparse.ArgumentParser(description="Lecture slides from the docs' diagrams.")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "slides"))
    ap.add_argument("--repo", default=ROOT, help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    n, undrawn = build(opts.repo, opts.out)
    print("slides: %d in %s" % (n, os.path.join(opts.out, "index.html")))
    for u in undrawn:
        print("slides: not drawn, shown as source: %s" % u)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
