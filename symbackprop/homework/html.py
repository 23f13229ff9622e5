"""A Markdown solution as the HTML a learning-management system shows (issue 14): Moodle's and
Canvas's MathJax typeset `\\(...\\)` and `\\[...\\]`, so the mathematics is kept as TeX between
those delimiters, HTML-escaped, and the rest is CommonMark with tables (markdown-it-py, the
CommonMark reference port, with its dollar-math plugin: no hand-written Markdown parser).
The Mermaid figure is left out: no LMS draws it, and the question text says the network in words.
"""

from __future__ import annotations

import functools
import html
import re

#: A fenced Mermaid block, as the Markdown templates write it.
_MERMAID = re.compile(r"^```mermaid\n.*?^```\n?", re.MULTILINE | re.DOTALL)


def _math(inline: bool):
    left, right = (r"\(", r"\)") if inline else (r"\[", r"\]")

    def render(self, tokens, index, options, env) -> str:
        tex = html.escape(tokens[index].content.strip(), quote=False)
        return f"{left}{tex}{right}" + ("" if inline else "\n")
    return render


@functools.cache
def _parser():
    # Imported here, not at the top: the command line imports this module for every command.
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    # $$...$$ inside a paragraph too: the templates write display mathematics right after a line.
    dollarmath_plugin(parser, double_inline=True)
    parser.add_render_rule("math_inline", _math(True))
    parser.add_render_rule("math_inline_double", _math(False))
    parser.add_render_rule("math_block", _math(False))
    parser.add_render_rule("math_block_label", _math(False))
    return parser


def markdown_html(markdown: str) -> str:
    """The Markdown as HTML with TeX for MathJax; raw HTML in the Markdown is escaped, not passed."""
    return _parser().render(_MERMAID.sub("", markdown))
