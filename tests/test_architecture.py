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
# Each wing's training modules: they train (or train when no model is given). Only they,
# the shared training package and the demo import ``vae_apps.training``; inference never
# reaches them.
WING_TRAINING = {"denoising": ("train", "calibration"), "labelling": ("train", "pipeline"),
                 "generation": ("train",)}
TRAINING_MODULES = {f"vae_apps.{wing}.{name}" for wing, names in WING_TRAINING.items()
                    for name in names}


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
    shared = ("models", "io", "errors", "hardware", "loading", "plots", "training")
    for module, imported in graph.items():
        if _part(module) in shared:
            wings = [t for t in imported if _part(t) in WINGS]
            assert not wings, f"{module} (shared) imports the wing module(s) {wings}"


def _is_training(module):
    return module in TRAINING_MODULES or _part(module) == "training"


def test_each_wing_has_its_training_beside_its_inference():
    for wing, names in WING_TRAINING.items():
        for name in names:
            assert (PACKAGE / wing / f"{name}.py").is_file(), f"vae_apps/{wing}/{name}.py missing"


def test_only_the_wings_training_modules_import_the_training_package():
    for module, imported in _graph().items():
        users = [t for t in imported if _part(t) == "training"]
        if users and not _is_training(module) and module != "vae_apps.demo":
            raise AssertionError(f"{module} imports {users}: only a wing's training modules may")


def test_inference_never_imports_training():
    """No inference module reaches a training module, directly or through others."""
    graph = _graph()
    for module in graph:
        if _is_training(module) or module == "vae_apps.demo":
            continue
        seen, todo = set(), [module]
        while todo:
            for target in graph.get(todo.pop(), ()):
                assert not _is_training(target), f"inference module {module} reaches {target}"
                if target not in seen:
                    seen.add(target)
                    todo.append(target)


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


def test_no_benchmark_calls_a_private_name_of_the_package():
    """Benchmarks use what users can: no ``obj._name(`` call and no ``_name`` import."""
    found = []
    for path in sorted((ROOT / "benchmarks").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr.startswith("_") and not node.func.attr.startswith("__")
                    and not (isinstance(node.func.value, ast.Name)
                             and node.func.value.id in ("self", "os"))):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.func.attr}(")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vae_apps"):
                found += [f"{path.relative_to(ROOT)}:{node.lineno} {a.name}" for a in node.names
                          if a.name.startswith("_")]
    assert not found, found


def test_no_module_of_the_package_is_over_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in sorted(PACKAGE.rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert not long, long
