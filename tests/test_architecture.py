"""README's architecture picture against the real imports of vae_apps and apps."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _picture():
    """(groups: name -> modules, arrows) from README's mermaid block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Architecture", 1)[1].split("```mermaid", 1)[1].split("```", 1)[0]
    groups = {}
    for name, label in re.findall(r'^\s*(\w+)\["([^"]+)"\]', block, re.M):
        modules = label.split(":", 1)[1].replace("apps/", "").split(",")
        groups[name] = {m.strip() for m in modules}
    arrows = set(re.findall(r"^\s*(\w+) --> (\w+)\s*$", block, re.M))
    return groups, arrows


def _imports(path):
    """The vae_apps modules ``path`` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vae_apps"):
            parts = node.module.split(".")
            found.update([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("vae_apps."))
    return found


def _code_modules():
    """(group key, module name, imported vae_apps modules) for every source file."""
    for path in sorted((ROOT / "vae_apps").glob("*.py")):
        if path.stem != "__init__":
            yield "vae_apps", path.stem, _imports(path) - {path.stem}
    for path in sorted((ROOT / "apps").glob("*.py")):
        if path.stem not in ("__init__", "__main__"):
            yield "apps", path.stem, _imports(path)


def test_every_module_is_in_exactly_one_box():
    groups, _ = _picture()
    for package, module, _ in _code_modules():
        boxes = [name for name, members in groups.items()
                 if module in members and (name == "cli") == (package == "apps")]
        assert len(boxes) == 1, f"{package}/{module}.py is in {boxes or 'no box'} of the picture"


def test_the_arrows_are_the_imports():
    groups, arrows = _picture()
    box_of = {m: name for name, members in groups.items() if name != "cli" for m in members}
    real = set()
    for package, module, imported in _code_modules():
        source = "cli" if package == "apps" else box_of[module]
        real |= {(source, box_of[m]) for m in imported if box_of[m] != source}
    assert real - arrows == set(), "imports the picture does not show"
    assert arrows - real == set(), "arrows with no import behind them"


def test_inference_never_imports_training():
    for package, module, imported in _code_modules():
        if package == "vae_apps" and module not in ("training", "pipelines", "demo"):
            assert "training" not in imported, f"vae_apps/{module}.py imports training"
