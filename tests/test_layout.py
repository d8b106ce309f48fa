"""The layout DESIGN.md gives: no import cycles among the project's modules, nothing imports the
``pdw`` entry, the entry loads no heavy module, sources stay small, and the table of processes is
what the worker registers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("models", "workflows", "activities", "service", "api", "commands", "migrations")


def project_modules() -> dict[str, Path]:
    found = {p.stem: p for p in ROOT.glob("*.py")}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every project module ``path`` imports, at any depth of the file (lazy imports count too)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                out.add(name)
    return out


def test_no_import_cycle_and_nothing_imports_the_pdw_entry() -> None:
    modules = project_modules()
    graph = {name: imports_of(path, set(modules)) - {name} for name, path in modules.items()}
    assert not [m for m, deps in graph.items() if "starter_cli" in deps]
    # A package's __init__ is imported by its own modules: that edge is Python's, not a cycle of ours.
    for name in graph:
        graph[name] = {d for d in graph[name] if not name.startswith(d + ".")}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycle.extend(path[path.index(dep):] + [node, dep] if dep in path else [node, dep])
                return True
            if dep not in state and visit(dep, path + [node]):
                return True
        state[node] = 2
        return False

    for node in sorted(graph):
        if node not in state and visit(node, []):
            break
    assert not cycle, " → ".join(cycle)


def test_no_source_file_outside_tests_and_migrations_over_500_lines() -> None:
    long = {name: n for name, path in project_modules().items()
            if not name.startswith("migrations") and (n := len(path.read_text(encoding="utf-8").splitlines())) > 500}
    assert not long


def test_the_pdw_entry_loads_neither_temporalio_nor_sqlmodel_nor_pydantic() -> None:
    code = "import sys, starter_cli; print(' '.join(m for m in ('temporalio', 'sqlmodel', 'pydantic', 'fastapi') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
    assert len((ROOT / "starter_cli.py").read_text(encoding="utf-8").splitlines()) < 200


def test_the_process_table_is_what_the_worker_registers() -> None:
    from temporalio import workflow

    from models.processes import DECIDE_UPDATE, PROCESSES, STATE_QUERY, SUPPORT_WORKFLOWS
    from worker import WORKFLOWS

    definitions = {workflow._Definition.must_from_class(cls).name: workflow._Definition.must_from_class(cls)
                   for cls in WORKFLOWS}
    assert set(definitions) == {p.workflow for p in PROCESSES} | set(SUPPORT_WORKFLOWS)
    for process in PROCESSES:
        definition = definitions[process.workflow]
        assert DECIDE_UPDATE in definition.updates and STATE_QUERY in definition.queries, process
        assert definition.cls.case_type == process.case_type, process  # type: ignore[attr-defined]
    assert len({p.prefix for p in PROCESSES}) == len({p.route for p in PROCESSES}) == len(PROCESSES)


def test_every_schedule_starts_a_workflow_the_worker_registers() -> None:
    from devstack import daily_schedules
    from models.processes import SUPPORT_WORKFLOWS
    from settings import Settings

    schedules = daily_schedules(Settings())
    assert {"pdw-daily-digest", "pdw-grant-expiry", "pdw-applicants-purge"} <= set(schedules)
    assert all(workflow in SUPPORT_WORKFLOWS and cron for workflow, cron in schedules.values())


MUTATORS = {"append", "extend", "insert", "update", "setdefault", "pop", "popitem", "clear", "add", "remove",
            "discard", "sort", "reverse", "difference_update", "intersection_update", "symmetric_difference_update",
            "appendleft", "extendleft", "popleft", "move_to_end"}
CONTAINERS = {"dict", "list", "set", "defaultdict", "OrderedDict", "deque", "Counter", "bytearray"}
CLASS = "<a class>"  # type(self): what its attributes are set on is shared by every instance


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """A module's or class's statements, into if/try/with blocks (not into functions or classes)."""
    out: list[ast.stmt] = []
    for node in body:
        out.append(node)
        for block in ("body", "orelse", "finalbody", "handlers"):
            if isinstance(node, (ast.If, ast.Try, ast.With)) and hasattr(node, block):
                out += _module_level([n for n in getattr(node, block) if isinstance(n, ast.stmt)])
    return out


def _targets(node: ast.stmt) -> list[ast.expr]:
    targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else \
        [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
    flat: list[ast.expr] = []
    for t in targets:
        flat += list(t.elts) if isinstance(t, ast.Tuple) else [t]
    return flat


def _is_container(value: ast.expr | None) -> bool:
    if isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)):
        return True
    func = value.func if isinstance(value, ast.Call) else None
    return (isinstance(func, ast.Name) and func.id in CONTAINERS) or (isinstance(func, ast.Attribute) and func.attr in CONTAINERS)


def _shared(paths: list[Path], classes: bool) -> tuple[set[str], set[str]]:
    """(names bound at module or, with ``classes``, class level to a dict, list or set; every name a
    module binds): one object for every run. Models' class-level containers are pydantic field
    defaults, copied for each instance."""
    containers: set[str] = set()
    bound: set[str] = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        scopes = [(tree.body, True)] + [(node.body, False) for node in ast.walk(tree)
                                        if classes and isinstance(node, ast.ClassDef)]
        for body, module in scopes:
            for node in _module_level(body):
                names = [t.id for t in _targets(node) if isinstance(t, ast.Name)]
                if module:
                    bound |= set(names)
                value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
                if _is_container(value) or (isinstance(value, ast.Tuple) and any(map(_is_container, value.elts))):
                    containers |= set(names)
    return containers, bound


def _chain(node: ast.expr) -> list[str]:
    """The names an expression reaches its object through: ``X[k].get(a)`` → X, get."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Name):
            return [node.id, *names]
        if isinstance(node, ast.Attribute):
            names.insert(0, node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id == "type":
                return [CLASS, *names]
            node = node.func
        else:
            return names


def _changed(node: ast.AST) -> list[list[str]]:
    """The objects ``node`` changes in place, each as its chain of names."""
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete, ast.AnnAssign)):
        return [_chain(t.value) for t in _targets(node) if isinstance(t, (ast.Subscript, ast.Attribute))]
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            return [_chain(node.func.value)]
        if isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr") and node.args:
            return [_chain(node.args[0])]
    return []


def test_workflow_code_changes_no_state_that_runs_share() -> None:
    """The worker runs cases outside the SDK's sandbox (worker.py), so what a module or a class holds
    is one object for every case in the process: workflow code only reads it. Refused: changing in
    place (item or attribute assignment, a mutating method, setattr) anything reached through a
    module-level name, a module's or class's container, or ``type(self)``; and ``global``. An
    instance's own state (``self.…`` made in ``__init__``/``open_case``) is not named here."""
    workflow_files = sorted((ROOT / "workflows").glob("*.py"))
    containers, bound = _shared(workflow_files, classes=True)
    model_containers, _ = _shared(sorted((ROOT / "models").glob("*.py")), classes=False)
    shared = containers | model_containers | {CLASS}
    assert {"ENDED_ZH", "status_zh", "STEP_RULES"} <= shared and "ACTIVITY" in bound  # the scan finds them
    changed = [f"{path.name}:{node.lineno} {'.'.join(chain)}"
               for path in workflow_files for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               for chain in _changed(node)
               if chain and (chain[0] in bound or any(name in shared for name in chain if name not in ("self", "cls")))]
    globals_ = [f"{path.name}:{node.lineno}" for path in workflow_files
                for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.Global)]
    assert not changed and not globals_, f"workflow code changes shared state: {changed + globals_}"
