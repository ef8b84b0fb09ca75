"""Plotly under the Content-Security-Policy, which refuses inline <style>: the style rules
plotly.min.js would inject are served as static/css/plotly.css, and the few style
attributes it writes for rich text are allowed by hash. Both must stay equal to what the
Plotly we serve does.

After upgrading static/vendor/plotly.min.js, rewrite the stylesheet with
`.venv/bin/python -m tests.test_plotly_csp > static/css/plotly.css` and update
settings.PLOTLY_TEXT_STYLES if this test says so.
"""

import re
from pathlib import Path

from django.conf import settings

REPO = Path(__file__).resolve().parent.parent
PLOTLY = REPO / "static" / "vendor" / "plotly.min.js"
CSS = REPO / "static" / "css" / "plotly.css"

# Plotly's src/css/_*.scss compiled into the bundle: {"X .modebar": "position:absolute;…"},
# X standing for ".js-plotly-plot .plotly" and Y for ".plotly-notifier"
# (src/css/plotcss.js, read by src/registry.js with Lib.addStyleRule).
RULES = re.compile(r'=(\{"X,X div":.*?\});for\(\w+ in \w+\)')
# One `key: value` of that object literal: keys bare or in double quotes, values in single
# or double quotes (whichever the minifier chose; neither holds an escaped quote).
OBJECT_ENTRY = re.compile(
    r'(?:"(?P<quoted_key>[^"]*)"|(?P<bare_key>\w+)):'
    r"(?:'(?P<single>[^']*)'|\"(?P<double>[^\"]*)\")"
)


def plotly_css() -> str:
    """The stylesheet plotly.min.js would write into a <style> element, as a file."""
    found = RULES.search(PLOTLY.read_text(encoding="utf-8"))
    assert found, "the style rules were not found in plotly.min.js"
    literal = found.group(1)
    entries = list(OBJECT_ENTRY.finditer(literal))
    # Every character of the literal is in an entry, a comma between two, or a brace.
    assert "{" + ",".join(entry.group(0) for entry in entries) + "}" == literal
    rules = {
        entry["quoted_key"] or entry["bare_key"]: entry["single"] or entry["double"]
        for entry in entries
    }
    lines = [
        "/* Plotly's own style rules, generated from static/vendor/plotly.min.js by",
        "   tests/test_plotly_csp.py: served as a file so the CSP needs no inline style. */",
    ]
    # Plotly inserts each rule at the top of its sheet, so its first rule ends up last and
    # wins a tie: the file lists them in that final order.
    for selector, declarations in reversed(rules.items()):
        full = (
            selector.replace(",", ", ")
            .replace("X", ".js-plotly-plot .plotly")
            .replace("Y", ".plotly-notifier")
        )
        lines.append(f"{full} {{ {declarations} }}")
    return "\n".join(lines) + "\n"


# TAG_STYLES of src/lib/svg_text_utils.js: {sup:"font-size:70%",…,span:"",em:"…"}.
TAG_STYLES = re.compile(r'=(\{sup:"[^"]*",sub:"[^"]*",[^}]*\})')


def plotly_text_styles() -> set[str]:
    """The style attributes Plotly writes for <b>, <i>, <sup>… in a label's text."""
    found = TAG_STYLES.search(PLOTLY.read_text(encoding="utf-8"))
    assert found, "the text styles were not found in plotly.min.js"
    return {value for value in re.findall(r'\w+:"([^"]*)"', found.group(1)) if value}


def test_the_policy_allows_the_text_styles_of_the_plotly_we_serve() -> None:
    # Given the style attributes the served Plotly writes for rich text in labels
    # Then the policy allows exactly those (by hash: settings.PLOTLY_TEXT_STYLES)
    assert set(settings.PLOTLY_TEXT_STYLES) == plotly_text_styles()
    assert len(settings.PLOTLY_TEXT_STYLES) == len(set(settings.PLOTLY_TEXT_STYLES))


def test_the_stylesheet_matches_the_plotly_we_serve() -> None:
    # Given the Plotly bundle served from static files
    # When its style rules are read out of it
    # Then static/css/plotly.css holds exactly them
    assert CSS.read_text(encoding="utf-8") == plotly_css(), __doc__


if __name__ == "__main__":
    print(plotly_css(), end="")
