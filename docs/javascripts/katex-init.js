// Typeset every formula on the page with the KaTeX shipped in the site (see docs/hooks.py).
function typeset(root) {
  renderMathInElement(root, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
      { left: "$", right: "$", display: false },
    ],
    throwOnError: false,
  });
}
if (typeof document$ !== "undefined") {
  document$.subscribe(({ body }) => typeset(body));
} else {
  document.addEventListener("DOMContentLoaded", () => typeset(document.body));
}
