"""How explanations and backprop steps look in a notebook or on a page: LaTeX and HTML tables.

Every user label passes through ``latex_name`` (LaTeX) or ``html.escape`` (HTML)
before it reaches the output, so a label such as ``<script>`` or ``a}\\`` is shown,
never run or typeset as markup.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import TYPE_CHECKING, Any, Iterable

import sympy

from .naming import fmt

if TYPE_CHECKING:  # pragma: no cover
    from .explanation import Explanation, Path

# Greek letters by their Unicode name, as LaTeX macros.
_GREEK = {c: "\\" + unicodedata.name(c).split()[-1].lower() for c in "αβγδεζηθικλμνξπρστυφχψω"}
_GREEK.update({c: "\\" + unicodedata.name(c).split()[-1].capitalize() for c in "ΓΔΘΛΞΠΣΦΨΩ"})
_GREEK["ℓ"] = r"\ell"
# Accents that follow a letter (as combining characters, after NFD): ŷ → \hat{y}.
_ACCENTS = {"\u0302": "hat", "\u0304": "bar", "\u0303": "tilde", "\u0307": "dot"}
# Text-mode escapes that pdflatex, KaTeX and MathJax all accept.
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "%": r"\%", "&": r"\&", "#": r"\#",
    "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}", "<": r"\textless{}",
    ">": r"\textgreater{}", "\n": " ", "\r": " ", "\t": " ",
}
# A name such as ŷ0, z12, mul0, σ, or a tensor element Z[0,1]: a base and an optional index.
_NAME = re.compile(r"^(?P<base>[A-Za-z][\u0300-\u036f]?|[A-Za-z]{2,}|\\[A-Za-z]+)"
                   r"(?P<sub>\d*|\[\d+(?:, ?\d+)*\])$")
LATEX_PREAMBLE = (
    "\\usepackage{amsmath}\n"
    "\\IfFileExists{cancel.sty}{\\usepackage{cancel}}"
    "{\\providecommand{\\cancel}[1]{\\mbox{\\ooalign{$##1$\\cr\\hidewidth$/$\\hidewidth\\cr}}}}\n"
)


_TEXT_ACCENTS = {"\u0302": "^", "\u0304": "=", "\u0303": "~", "\u0307": ".", "\u0301": "'", "\u0300": "`",
                 "\u0308": '"'}


def _text_char(c: str) -> str:
    """One character for text mode, in a form pdflatex, KaTeX (strict) and MathJax all accept."""
    if c.isascii():
        return _TEXT_ESCAPES.get(c, c)
    if c in _GREEK:
        return f"${_GREEK[c]}$"
    d = unicodedata.normalize("NFD", c)
    if len(d) == 2 and d[0].isascii() and d[0].isalpha() and d[1] in _TEXT_ACCENTS:
        return f"\\{_TEXT_ACCENTS[d[1]]}{{{d[0]}}}"
    digit = unicodedata.digit(c, None)
    return str(digit) if digit is not None else "?"


def latex_text(text: str) -> str:
    r"""``text`` inside ``\text{…}``, every LaTeX special escaped (characters no engine can set become ?)."""
    return r"\text{" + "".join(_text_char(c) for c in unicodedata.normalize("NFC", str(text))) + "}"


def latex_name(name: str) -> str:
    r"""A node's display name as LaTeX math: ``ŷ0`` → ``\hat{y}_{0}``, ``σ`` → ``\sigma``, ``mul0`` → ``\mathrm{mul}_{0}``.

    Anything else is set as escaped text, so no label can break the typesetting.
    """
    s = "".join(_GREEK.get(c, c) for c in unicodedata.normalize("NFD", str(name)))
    m = _NAME.match(s)
    # A macro is allowed only as a Greek letter made here: a label "\end" or "\input" stays text.
    if m is None or (m.group("base").startswith("\\") and m.group("base") not in _GREEK.values()):
        return latex_text(name)
    base, sub = m.group("base"), m.group("sub").strip("[]").replace(" ", "")
    if len(base) == 2 and base[1] in _ACCENTS:
        base = f"\\{_ACCENTS[base[1]]}{{{base[0]}}}"
    elif len(base) > 1 and base.isalpha():  # a word such as mul or log; \sigma stays a macro
        base = rf"\mathrm{{{base}}}"
    return base + (f"_{{{sub}}}" if sub else "")


def latex_number(x: Any, digits: int = 4) -> str:
    """A float in LaTeX: ``-2.5e-05`` → ``-2.5 \\times 10^{-5}``."""
    s = f"{float(x) + 0.0:.{digits}g}"
    if "e" in s:
        mantissa, exp = s.split("e")
        return rf"{mantissa} \times 10^{{{int(exp)}}}"
    return s


def latex(expr: sympy.Expr) -> str:
    """SymPy's LaTeX of ``expr`` with every symbol named by ``latex_name``."""
    names = {s: latex_name(s.name) for s in expr.free_symbols if isinstance(s, sympy.Symbol)}
    return sympy.latex(expr, symbol_names=names)


def _remove(part: sympy.Expr, factors: list[sympy.Expr]) -> sympy.Expr:
    """``part`` with one power of each of ``factors`` taken out, keeping the rest as written."""
    args = list(sympy.Mul.make_args(part))
    for f in factors:
        for k, a in enumerate(args):
            base, exp = a.as_base_exp()
            if base == f and exp.is_Integer and exp > 0:
                args[k] = base ** (exp - 1)
                break
        else:
            return sympy.factor(sympy.Mul(*args) / sympy.Mul(*factors))
    return sympy.Mul(*args)


def _factors_tex(cancelled: list[sympy.Expr], rest: sympy.Expr) -> str:
    sign = ""
    coeff, _ = rest.as_coeff_Mul()
    if coeff < 0:
        sign, rest = "-", -rest
    parts = [rf"\cancel{{{latex(c)}}}" for c in cancelled]
    if rest != 1 or not parts:
        text = latex(rest)
        parts.append(rf"\left({text}\right)" if parts and rest.is_Add else text)
    return sign + r"\,".join(parts)


def edge_latex(expr: sympy.Expr, numerator: list[sympy.Expr], denominator: list[sympy.Expr]) -> str:
    r"""One edge's local derivative, the factors that cancel struck through with ``\cancel``."""
    if not numerator and not denominator:
        return latex(expr)
    num, den = sympy.fraction(expr)
    top = _factors_tex(numerator, _remove(num, numerator))
    if not denominator and den == 1:
        return top
    sign = ""
    if top.startswith("-"):
        sign, top = "-", top[1:]
    return rf"{sign}\frac{{{top}}}{{{_factors_tex(denominator, _remove(den, denominator))}}}"


def _path_product_latex(path: Path) -> str:
    terms = []
    for k, e in enumerate(path.edges):
        num = [c.factor for c in path.cancellations if c.numerator == k]
        den = [c.factor for c in path.cancellations if c.denominator == k]
        t = edge_latex(e.symbolic, num, den)
        if len(path.edges) > 1 and (t.startswith("-") or (e.symbolic.is_Add and not num and not den)):
            t = rf"\left({t}\right)"
        terms.append(t)
    return r" \cdot ".join(terms) if terms else "1"


def join_terms(terms: Iterable[str], minus: str = "-") -> str:
    """Terms joined with + and ``minus``, each kept as written (no collecting): ``a − b + c``."""
    out = ""
    for t in terms:
        if not out:
            out = t
        elif t.startswith(minus):
            out += f" {minus} {t[len(minus):].lstrip()}"
        else:
            out += f" + {t}"
    return out or "0"


def explanation_latex(e: Explanation) -> str:
    r"""The explanation as one ``aligned`` block (no delimiters): each path's product, then its simplified form.

    Needs only amsmath (and ``\cancel``; see ``LATEX_PREAMBLE``), so it typesets in KaTeX, MathJax and pdflatex.
    """
    r, w = latex_name(e.names[e.root]), latex_name(e.names[e.wrt])
    d = rf"\frac{{\partial {r}}}{{\partial {w}}}"
    n = len(e.paths)
    lines = [rf"{d} &= {join_terms(latex(p.simplified) for p in e.paths)} = {latex_number(e.total)}"
             rf" \quad {latex_text(f'over {n} path' + ('s' if n != 1 else ''))}"]
    for k, path in enumerate(e.paths, 1):
        chain = r" \to ".join(latex_name(e.names[v]) for v in path.nodes)
        lines.append(rf"{latex_text(f'path {k}:')} \quad & {chain}")
        lines.append(rf"&= {_path_product_latex(path)}")
        note = (r"\quad " + latex_text("cancels: ") + ", ".join(latex(c.factor) for c in path.cancellations)
                if path.cancellations else r"\quad " + latex_text("nothing cancels"))
        lines.append(rf"&= {latex(path.simplified)} = {latex_number(path.product)} {note}")
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


def latex_document(body: str) -> str:
    """A standalone pdflatex document around display math ``body``."""
    return ("\\documentclass{article}\n" + LATEX_PREAMBLE + "\\begin{document}\n\\[\n" + body
            + "\n\\]\n\\end{document}\n")


def _h(x: Any) -> str:
    return html.escape(str(x), quote=True)


_TABLE_STYLE = ("<style>.tl-steps{border-collapse:collapse;font-family:monospace;font-size:90%}"
                ".tl-steps th,.tl-steps td{border:1px solid #d1d5db;padding:2px 8px;text-align:left;"
                "vertical-align:top}.tl-steps th{background:#f3f4f6}</style>")
_HEAD = ("<tr><th>step</th><th>node (op)</th><th>∂/∂node</th><th>parent</th><th>local ∂node/∂parent</th>"
         "<th>adds to parent.grad</th><th>parent.grad so far</th></tr>")


def _step_rows(step: Any) -> str:
    parents = list(step.parents) or [None]
    rows = []
    for j, e in enumerate(parents):
        cells = ""
        if j == 0:
            span = f' rowspan="{len(parents)}"' if len(parents) > 1 else ""
            cells = (f"<td{span}>{_h(step.index)}</td><td{span}>{_h(step.name)} ({_h(step.node.op)})</td>"
                     f"<td{span}>{_h(fmt(step.upstream))}</td>")
        if e is None:
            cells += '<td colspan="4">(no parent needs a gradient)</td>'
        else:
            local = e.formula if isinstance(e.local, str) else f"{e.formula} = {fmt(e.local)}"
            if not isinstance(e.local, str) and e.formula == fmt(e.local):
                local = e.formula
            so_far = getattr(e, "grad", None)
            so_far = fmt(so_far) if so_far is not None else ""
            cells += (f"<td>{_h(e.name)}</td><td>{_h(local)}</td><td>{_h(fmt(e.contribution))}</td>"
                      f"<td>{_h(e.total or so_far)}</td>")
        rows.append(f"<tr>{cells}</tr>")
    return "".join(rows)


def steps_html(steps: Iterable[Any]) -> str:
    """Backprop steps as one HTML table: a row per parent edge, grouped by step."""
    body = "".join(_step_rows(s) for s in steps) or (
        '<tr><td colspan="7">no backward steps: the root has no graph (a leaf, or built under no_grad())</td></tr>')
    return f'{_TABLE_STYLE}<table class="tl-steps">{_HEAD}{body}</table>'


__all__ = ["latex_name", "latex_text", "latex", "join_terms", "explanation_latex", "latex_document", "steps_html",
           "LATEX_PREAMBLE"]
