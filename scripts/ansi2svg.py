#!/usr/bin/env python3
"""Render a terminal capture with ANSI SGR colours (tmux capture-pane -e -p)
into an SVG image: one background rect per run of cells, one text span per
run of styled characters. Usage: ansi2svg.py COLS ROWS < capture > out.svg"""

import html
import re
import sys

# xterm-like palette for the 16 named colours.
PALETTE = [
    "#1e1e1e", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
    "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
]
FG, BG = "#d4d4d4", "#1e1e1e"
CW, LH, FS = 8.4, 17, 14


def c256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        v = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (v[n // 36], v[(n // 6) % 6], v[n % 6])
    g = 8 + (n - 232) * 10
    return "#%02x%02x%02x" % (g, g, g)


def parse(text, cols, rows):
    grid = []
    st = dict(fg=None, bg=None, bold=False, dim=False, ul=False, rev=False)
    for line in text.split("\n")[:rows]:
        row = []
        i = 0
        while i < len(line):
            m = re.match(r"\x1b\[([0-9;]*)m", line[i:])
            if m:
                codes = [int(c) if c else 0 for c in m.group(1).split(";")]
                j = 0
                while j < len(codes):
                    c = codes[j]
                    if c == 0:
                        st = dict(fg=None, bg=None, bold=False, dim=False, ul=False, rev=False)
                    elif c == 1:
                        st["bold"] = True
                    elif c == 2:
                        st["dim"] = True
                    elif c == 22:
                        st["bold"] = st["dim"] = False
                    elif c == 4:
                        st["ul"] = True
                    elif c == 24:
                        st["ul"] = False
                    elif c == 7:
                        st["rev"] = True
                    elif c == 27:
                        st["rev"] = False
                    elif 30 <= c <= 37:
                        st["fg"] = PALETTE[c - 30]
                    elif 90 <= c <= 97:
                        st["fg"] = PALETTE[c - 90 + 8]
                    elif c == 39:
                        st["fg"] = None
                    elif 40 <= c <= 47:
                        st["bg"] = PALETTE[c - 40]
                    elif 100 <= c <= 107:
                        st["bg"] = PALETTE[c - 100 + 8]
                    elif c == 49:
                        st["bg"] = None
                    elif c in (38, 48) and j + 1 < len(codes):
                        key = "fg" if c == 38 else "bg"
                        if codes[j + 1] == 5 and j + 2 < len(codes):
                            st[key] = c256(codes[j + 2])
                            j += 2
                        elif codes[j + 1] == 2 and j + 4 < len(codes):
                            st[key] = "#%02x%02x%02x" % tuple(codes[j + 2 : j + 5])
                            j += 4
                    j += 1
                i += len(m.group(0))
                continue
            m = re.match(r"\x1b\[[0-9;?]*[A-Za-z]", line[i:])
            if m:
                i += len(m.group(0))
                continue
            row.append((line[i], dict(st)))
            i += 1
        blank = dict(fg=None, bg=None, bold=False, dim=False, ul=False, rev=False)
        row = row[:cols] + [(" ", blank)] * max(0, cols - len(row))
        grid.append(row)
    while len(grid) < rows:
        grid.append([(" ", dict(fg=None, bg=None, bold=False, dim=False, ul=False, rev=False))] * cols)
    return grid


def colours(s):
    fg, bg = s["fg"] or FG, s["bg"] or BG
    if s["rev"]:
        fg, bg = (s["bg"] or BG), (s["fg"] or FG)
    return fg, bg


def render(grid, cols, rows):
    w, h = int(cols * CW) + 20, rows * LH + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">',
        f'<rect width="100%" height="100%" rx="6" fill="{BG}"/>',
        f'<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="{FS}px" xml:space="preserve">',
    ]
    for y, row in enumerate(grid):
        ty = 10 + y * LH
        x = 0
        while x < cols:
            _, bg = colours(row[x][1])
            x2 = x
            while x2 < cols and colours(row[x2][1])[1] == bg:
                x2 += 1
            if bg != BG:
                out.append(
                    f'<rect x="{10 + x * CW:.1f}" y="{ty}" width="{(x2 - x) * CW + 0.5:.1f}" height="{LH}" fill="{bg}"/>'
                )
            x = x2
        x = 0
        while x < cols:
            s = row[x][1]
            fg, _ = colours(s)
            key = (fg, s["bold"], s["dim"], s["ul"])
            x2 = x
            text = ""
            while x2 < cols:
                s2 = row[x2][1]
                if (colours(s2)[0], s2["bold"], s2["dim"], s2["ul"]) != key:
                    break
                text += row[x2][0]
                x2 += 1
            if text.strip():
                attrs = f'fill="{fg}"'
                if s["bold"]:
                    attrs += ' font-weight="bold"'
                if s["dim"]:
                    attrs += ' opacity="0.6"'
                if s["ul"]:
                    attrs += ' text-decoration="underline"'
                out.append(
                    f'<text x="{10 + x * CW:.1f}" y="{ty + LH - 4}" {attrs} textLength="{len(text) * CW:.1f}" lengthAdjust="spacingAndGlyphs">{html.escape(text)}</text>'
                )
            x = x2
    out.append("</g></svg>")
    return "\n".join(out)


def main():
    cols, rows = int(sys.argv[1]), int(sys.argv[2])
    text = sys.stdin.read()
    sys.stdout.write(render(parse(text, cols, rows), cols, rows) + "\n")


if __name__ == "__main__":
    main()
