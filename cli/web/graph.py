"""The task page's dependency graph, drawn as SVG on the server: dependencies (transitively) in
columns to the left, the task, its dependents to the right; boxes coloured by status, each a
link to its task."""
from __future__ import annotations

from html import escape
from typing import Any

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 190, 44, 60, 14, 10


def _short(text: str | None, width: int) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def render(nodes: list[dict[str, Any]], task_id: int) -> str:
    """SVG markup for the nodes of queries.dependency_graph (empty string: nothing to draw)."""
    if len(nodes) <= 1:
        return ""
    columns: dict[int, list[dict[str, Any]]] = {}
    for node in nodes:
        columns.setdefault(node["depth"], []).append(node)
    order = sorted(columns, reverse=True)  # deepest dependencies first (left), dependents (-1) last
    place: dict[int, tuple[int, int]] = {}
    tallest = max(len(c) for c in columns.values())
    for x_index, depth in enumerate(order):
        for y_index, node in enumerate(columns[depth]):
            place[node["id"]] = (PAD + x_index * (BOX_W + GAP_X), PAD + y_index * (BOX_H + GAP_Y))
    width = PAD * 2 + len(order) * BOX_W + (len(order) - 1) * GAP_X
    height = PAD * 2 + tallest * BOX_H + (tallest - 1) * GAP_Y
    parts = [f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="dependency graph">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>']
    for node in nodes:
        for dep in node["depends_on"] or []:
            if dep in place and node["id"] in place:
                (x1, y1), (x2, y2) = place[dep], place[node["id"]]
                sx, sy, ex, ey = x1 + BOX_W, y1 + BOX_H / 2, x2, y2 + BOX_H / 2
                mid = (sx + ex) / 2
                parts.append(f'<path class="edge" d="M {sx} {sy} C {mid} {sy}, {mid} {ey}, {ex} {ey}" '
                             'marker-end="url(#arrow)"/>')
    for node in nodes:
        x, y = place[node["id"]]
        status = node["status"] or "archived"
        current = " current" if node["id"] == task_id else ""
        parts.append(
            f'<a href="/tasks/{node["id"]}"><g class="node status-{escape(status)}{current}">'
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6"/>'
            f'<text x="{x + 8}" y="{y + 17}" class="node-title">#{node["id"]} {escape(status)} '
            f'{escape(node["agent"] or "")}</text>'
            f'<text x="{x + 8}" y="{y + 34}" class="node-prompt">{escape(_short(node["prompt"], 28))}</text>'
            '</g></a>')
    parts.append("</svg>")
    return "".join(parts)
