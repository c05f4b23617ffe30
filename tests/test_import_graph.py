"""Imports in `bridge/` go one way: no cycle, and only down the declared layers.

Layers, lowest first (a module may import its own layer or a lower one, never a higher one):

- foundation: config, storage, background, logs, commands, dialogs — no knowledge of features;
- plumbing: matrix (the bot, Synapse calls), mail, delivery (the durable outbox worker);
- domain: accounts, directory, identity, verification, cps and the feature packages
  (agenda, referral, sms, webhooks, guests, cases, spaces);
- context: `bridge/context.py`, what features may use (`HandlerContext`) and declare (`Feature`);
- surfaces: web, sso, handlers (bot commands), appservice, integrator_api, dev (simulators);
  a surface never imports another surface, except the shared web helpers (`WEB_HELPERS`);
- composition: service, features, providers, bootstrap, stack, cli, operations, homeserver,
  supervisor — they wire the rest and nothing imports them but each other.

`bridge/synapse_module/` runs inside Synapse: it imports nothing else from `bridge`.
Imports under `if TYPE_CHECKING:` are annotations only and are not counted.
A new package must be placed in `LAYERS` (the test fails until it is).
"""

from __future__ import annotations

import ast
from pathlib import Path

BRIDGE = Path(__file__).resolve().parent.parent / "bridge"

LAYERS = {
    "foundation": ("__init__", "config", "storage", "background", "logs", "commands", "dialogs"),
    "plumbing": ("matrix", "mail", "delivery"),
    "domain": ("accounts", "directory", "identity", "verification", "cps", "agenda", "referral",
               "sms", "webhooks", "guests", "cases", "spaces"),
    "context": ("context",),
    "surfaces": ("web", "sso", "handlers", "appservice", "integrator_api", "dev"),
    "composition": ("service", "features", "providers", "bootstrap", "stack", "cli",
                    "operations", "homeserver", "supervisor", "__main__"),
    "homeserver module": ("synapse_module",),
}
ORDER = list(LAYERS)
SURFACES = set(LAYERS["surfaces"])
# What any surface may share from the web package: request helpers, not pages.
WEB_HELPERS = {"bridge.web.csrf", "bridge.web.ratelimit", "bridge.web.sealed",
               "bridge.web.templating"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(BRIDGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in BRIDGE.rglob("*.py")}


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {id(n) for node in ast.walk(tree)
                 if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                 for n in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if path.name == "__init__.py" \
                    else module.split(".")[:-1]
                package = package[:len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    resolved = {_resolve(name) for name in found if name.split(".")[0] == "bridge"}
    return {name for name in resolved if name and name != module}


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(module: str) -> str:
    top = _top(module)
    for layer, names in LAYERS.items():
        if top in names:
            return layer
    raise AssertionError(f"bridge.{top} is in no layer: add it to LAYERS in {__file__}")


def test_every_package_has_a_layer():
    for module in MODULES:
        _layer(module)


def test_no_import_cycle():
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert cycles == []


def test_imports_only_go_down_the_layers():
    upward = []
    for module, targets in GRAPH.items():
        for target in targets:
            source_layer, target_layer = _layer(module), _layer(target)
            if "homeserver module" in (source_layer, target_layer):
                continue  # its own test below
            if ORDER.index(target_layer) > ORDER.index(source_layer):
                upward.append(f"{module} ({source_layer}) -> {target} ({target_layer})")
            elif (source_layer == "surfaces" and _top(module) != _top(target)
                  and _top(target) in SURFACES and target not in WEB_HELPERS):
                upward.append(f"{module} -> {target} (surface to surface)")
    assert sorted(upward) == []


def test_synapse_module_imports_nothing_else_from_bridge():
    outside = {f"{module} -> {target}" for module, targets in GRAPH.items()
               if _top(module) == "synapse_module"
               for target in targets if _top(target) != "synapse_module"}
    assert outside == set()


def test_the_checker_sees_a_known_edge():
    """Guard against a checker that silently finds nothing."""
    assert "bridge.storage.database" in GRAPH["bridge.verification.service"]
