#!/usr/bin/env python3
"""Lists import circles between the top-level modules of each crate in the workspace.

A module's imports are the `crate::<module>` paths in its files (doc comments and `$crate`
macro paths excluded; test modules included). Exit 1 if any crate has a circle, so that
scripts/test-all.sh keeps the one-direction rule of DESIGN.md.
"""
import os
import re
import sys

CRATES = ["sentry-core/src", "sentry-transport/src", "sentry-integrations/src", "src"]
PATH = re.compile(r"(?<![\w$])crate::([a-z_][a-z0-9_]*)")
GROUP = re.compile(r"(?<![\w$])crate::\{([^}]*)\}")


def top_module(src, path):
    rel = os.path.relpath(path, src)
    first = rel.split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


def root_reexports(src):
    """Names that lib.rs re-exports (`pub use module::{A, b}`), mapped to their module, so
    that `crate::capture_message` counts as an import of `api`."""
    names = {}
    with open(os.path.join(src, "lib.rs"), encoding="utf-8") as f:
        text = f.read()
    for module, body in re.findall(r"pub use ([a-z_][a-z0-9_]*)::\{([^}]*)\}", text):
        for item in body.split(","):
            item = item.strip()
            if item:
                names[item.split("::")[-1]] = module
    for module, item in re.findall(r"pub use ([a-z_][a-z0-9_]*)::(\w+);", text):
        names[item] = module
    return names


def graph(src):
    names = root_reexports(src)
    edges = {}
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            module = top_module(src, path)
            if module in ("lib", "main"):
                continue
            with open(path, encoding="utf-8") as f:
                for line in f:
                    code = line.split("//", 1)[0]
                    targets = PATH.findall(code)
                    for group in GROUP.findall(code):
                        targets += [p.strip().split("::")[0] for p in group.split(",")]
                    for target in targets:
                        target = names.get(target, target)
                        if target != module:
                            edges.setdefault(module, set()).add(target)
    modules = {top_module(src, os.path.join(src, n)) for n in os.listdir(src)} - {"lib", "main"}
    return {m: edges.get(m, set()) & modules for m in modules}


def cycles(g):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    found = False
    for crate in CRATES:
        src = os.path.join(root, crate)
        for comp in cycles(graph(src)):
            found = True
            g = graph(src)
            detail = "; ".join(f"{m} -> {', '.join(sorted(g[m] & set(comp)))}" for m in comp)
            print(f"{crate}: import circle between {', '.join(comp)} ({detail})")
    if not found:
        print("no import circles between top-level modules")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
