#!/usr/bin/env python3
"""Builds a .NET Interactive (C#) .ipynb from a plain-text source (cells separated by lines '#%% md' / '#%% cs').

Notebooks in notebooks/ are committed as .ipynb with outputs cleared (the .ipynb is the source of truth); this
tool only helps edit them as plain text in an editor.
Usage:
  python3 tools/nbbuild.py --extract notebooks/00-tour.ipynb /tmp/00-tour.txt   # .ipynb -> text
  python3 tools/nbbuild.py /tmp/00-tour.txt notebooks/00-tour.ipynb             # text -> .ipynb (outputs cleared)
"""
import json
import sys


def build(src_path, out_path):
    cells, kind, lines = [], None, []

    def flush():
        if kind is None:
            return
        text = "\n".join(lines).strip("\n")
        source = [l + "\n" for l in text.split("\n")]
        if source:
            source[-1] = source[-1].rstrip("\n")
        if kind == "md":
            cells.append({"cell_type": "markdown", "metadata": {}, "source": source})
        else:
            cells.append({"cell_type": "code", "execution_count": None, "metadata": {
                "dotnet_interactive": {"language": "csharp"}, "polyglot_notebook": {"kernelName": "csharp"}},
                "outputs": [], "source": source})

    for line in open(src_path, encoding="utf-8").read().split("\n"):
        if line.startswith("#%% "):
            flush()
            kind, lines = line[4:].strip(), []
        else:
            lines.append(line)
    flush()
    nb = {"cells": cells, "metadata": {
        "kernelspec": {"display_name": ".NET (C#)", "language": "C#", "name": ".net-csharp"},
        "language_info": {"file_extension": ".cs", "mimetype": "text/x-csharp", "name": "C#", "pygments_lexer": "csharp", "version": "13.0"},
        "polyglot_notebook": {"kernelInfo": {"defaultKernelName": "csharp", "items": [{"aliases": [], "name": "csharp"}]}}},
        "nbformat": 4, "nbformat_minor": 5}
    for i, c in enumerate(nb["cells"]):
        c["id"] = f"cell-{i:02d}"
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")


def extract(nb_path, out_path):
    nb = json.load(open(nb_path, encoding="utf-8"))
    parts = []
    for c in nb["cells"]:
        kind = "md" if c["cell_type"] == "markdown" else "cs"
        parts.append(f"#%% {kind}\n" + "".join(c["source"]))
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "--extract":
        extract(sys.argv[2], sys.argv[3])
    else:
        build(sys.argv[1], sys.argv[2])
