"""Results as Markdown tables: they render in Jupyter, on Colab and on GitHub."""

from __future__ import annotations

from IPython.display import Markdown


def report_table(report: dict):
    """A nested report (numbers, and dicts of them at any depth; e.g. evaluate_swap's or
    judge_generator's) as a two-column Markdown table: a dict of numbers is one row
    ("yaw 1.23, pitch 0.8"), a dict holding dicts gives a row per entry ("key: sub")."""
    rows = []

    def add(name: str, value) -> None:
        if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
            for sub, v in value.items():
                add(f"{name}: {sub}", v)
        elif isinstance(value, dict) and name.count(": "):
            rows.append({"measure": name, "value": ", ".join(f"{k} {x:.3g}" for k, x in value.items())})
        elif isinstance(value, dict):
            for sub, v in value.items():
                rows.append({"measure": f"{name}: {sub}", "value": v})
        else:
            rows.append({"measure": name, "value": value})

    for key, value in report.items():
        add(key, value)
    return markdown_table(rows)


def markdown_table(rows: list[dict], digits: int = 3):
    """A list of flat dicts as a Markdown table (renders in Jupyter, Colab and on GitHub)."""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    fmt = lambda v: f"{v:.{digits}f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return Markdown("\n".join(lines))
