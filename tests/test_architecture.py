"""The package's map against its real imports: wings, the model family, no cycles.

docs/architecture.md's picture has one box per part of ``vae_apps`` (a sub-package, or a
top-level module) and the CLI; ``test_the_arrows_are_the_imports`` recomputes its arrows
from the code's imports (module level or inside functions).
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "vae_apps"
# The three applications: a wing imports the shared parts, never another wing.
WINGS = ("denoising", "labelling", "generation")
# The only modules that may import training (inference never does).
TRAINING_USERS = ("vae_apps.training", "vae_apps.pipelines", "vae_apps.demo")


def _module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    """{dotted name: path} of every vae_apps module."""
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path, known):
    """The vae_apps modules ``path`` imports (``from vae_apps.x import y`` counts
    ``vae_apps.x.y`` when that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vae_apps"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("vae_apps"))
    return found - {"vae_apps"}


def _graph():
    known = _modules()
    return {name: _imports(path, known) - {name} for name, path in known.items()}


def _part(module):
    """The picture's box of a module: its sub-package, or the top-level module itself."""
    return module.split(".")[1] if module.count(".") else module


def _picture():
    """(boxes, arrows) from docs/architecture.md's mermaid block."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("```mermaid", 1)[1].split("```", 1)[0]
    boxes = set(re.findall(r"^\s*(\w+)\[", block, re.M))
    arrows = set(re.findall(r"^\s*(\w+) --> (\w+)\s*$", block, re.M))
    return boxes, arrows


def test_no_import_cycle():
    graph = _graph()
    state = {}

    def visit(module, stack):
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycle = stack[stack.index(target):] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, stack + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_each_wing_is_a_package_and_no_wing_imports_another():
    graph = _graph()
    for wing in WINGS:
        assert (PACKAGE / wing / "__init__.py").is_file(), f"vae_apps/{wing}/ is not a package"
    for module, imported in graph.items():
        own = _part(module)
        for target in imported:
            other = _part(target)
            if own in WINGS and other in WINGS:
                assert other == own, f"{module} (wing {own}) imports {target} (wing {other})"


def test_shared_parts_never_import_a_wing():
    graph = _graph()
    shared = ("models", "io", "errors", "hardware", "loading", "plots")
    for module, imported in graph.items():
        if _part(module) in shared:
            wings = [t for t in imported if _part(t) in WINGS]
            assert not wings, f"{module} (shared) imports the wing module(s) {wings}"


def test_inference_never_imports_training():
    for module, imported in _graph().items():
        if module not in TRAINING_USERS:
            assert "vae_apps.training" not in imported, f"{module} imports vae_apps.training"


def test_the_arrows_are_the_imports():
    boxes, arrows = _picture()
    graph = _graph()
    parts = {_part(m) for m in graph if m != "vae_apps"}
    assert parts <= boxes, f"parts of vae_apps missing from the picture: {sorted(parts - boxes)}"
    real = {(_part(m), _part(t)) for m, imported in graph.items() if m != "vae_apps"
            for t in imported if _part(t) != _part(m)}
    cli = set()
    known = _modules()
    for path in sorted((ROOT / "apps").glob("*.py")):
        cli |= {("cli", _part(t)) for t in _imports(path, known)}
    real |= cli
    assert real - arrows == set(), "imports the picture does not show"
    assert arrows - real == set(), "arrows with no import behind them"
