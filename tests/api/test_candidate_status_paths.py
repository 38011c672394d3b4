"""Every path that changes a candidate's status goes through `change_status`: the code is
scanned for any other write, and the known paths are listed with the route that follows
each one up with `follow_status` (so a new path has to be added here, and tested)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOME = Path("api/services/candidate_status.py")
SCANNED = ("api", "activities", "models", "workflows", "core", "domain", "cli.py", "worker.py")
# (module, function) calling change_status → (route module, route) that follows it up.
PATHS = {
    ("api/services/candidate.py", "update_candidate"): (
        "api/routes/candidate.py",
        "update_candidate",
    ),
    ("api/services/outcome.py", "_enter_retake_review"): ("api/routes/outcome.py", "book_retake"),
}


def _modules() -> dict[Path, ast.Module]:
    files: list[Path] = []
    for entry in SCANNED:
        path = ROOT / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return {file.relative_to(ROOT): ast.parse(file.read_text(), str(file)) for file in files}


def _about_candidate(node: ast.expr) -> bool:
    return "candidate" in ast.unparse(node).lower()


def _status_writes(tree: ast.Module) -> list[str]:
    """Assignments to a candidate's `status`, setattr of it, SQL updates of candidates."""
    found = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "status"
                and _about_candidate(target.value)
            ):
                found.append(f"line {target.lineno}: {ast.unparse(target)} = ...")
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            args = [ast.unparse(arg) for arg in node.args]
            if name == "setattr" and node.args and _about_candidate(node.args[0]):
                found.append(f"line {node.lineno}: setattr({', '.join(args)})")
            if name.split(".")[-1] == "update" and "Candidate" in args:
                found.append(f"line {node.lineno}: {name}(Candidate)")
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "update candidates" in " ".join(node.value.lower().split())
        ):
            found.append(f"line {node.lineno}: SQL {node.value[:40]!r}")
    return found


def _calls(tree: ast.Module, callee: str) -> set[str]:
    """Names of the functions of `tree` that call `callee`."""
    callers = set()
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(callee):
                    callers.add(function.name)
    return callers


def test_no_code_but_change_status_writes_a_candidates_status() -> None:
    modules = _modules()
    assert HOME in modules
    elsewhere = {
        str(path): writes
        for path, tree in modules.items()
        if path != HOME and (writes := _status_writes(tree))
    }
    assert elsewhere == {}
    assert _status_writes(modules[HOME]), "the scan no longer sees the one real write"


def test_each_path_through_change_status_is_known_and_followed_by_its_route() -> None:
    modules = _modules()
    paths = {
        (str(path), caller)
        for path, tree in modules.items()
        if path != HOME
        for caller in _calls(tree, "change_status")
    }
    assert paths == set(PATHS)
    for route_module, route in PATHS.values():
        assert route in _calls(modules[Path(route_module)], "follow_status"), route
