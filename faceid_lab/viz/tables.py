"""Results as Markdown tables: they render in Jupyter, on Colab and on GitHub."""

from __future__ import annotations


def report_table(report: dict):
    """A nested report (numbers, and dicts of them one or two levels deep; e.g. evaluate_swap's or
    judge_generator's) as a two-column Markdown table."""
    rows = []
    for key, value in report.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                if isinstance(v, dict):
                    v = ", ".join(f"{k} {x:.1f}" for k, x in v.items())
                rows.append({"measure": f"{key}: {sub}", "value": v})
        else:
            rows.append({"measure": key, "value": value})
    return markdown_table(rows)


def markdown_table(rows: list[dict], digits: int = 3):
    """A list of flat dicts as a Markdown table (renders in Jupyter, Colab and on GitHub)."""
    from IPython.display import Markdown

    cols = list(dict.fromkeys(k for r in rows for k in r))
    fmt = lambda v: f"{v:.{digits}f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return Markdown("\n".join(lines))
