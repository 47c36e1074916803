"""Errors that reach a person are templates with parameters, so they can be said in the reader's language.

The rule, checked over the source (AST) of engine/, handlers/, readmodels/, analytics/ and web/:
constructing an ``AftersalesError`` subclass (or a ``FieldError``, or calling a function declared
to return one) never passes a message built with an f-string, ``%`` or ``.format``; the message
is an English template and its values go in ``params=`` (``FieldError``: ``template=``/``values=``
via ``field_error``). The gettext catalogue keys on the template, so ``web.rendering.error_text``
finds its Chinese.

Exempt, because they only reach developers and operators through logs, incidents and the CLI
(their English text is stored or printed as it is): ``ConfigError`` (settings at start-up),
``StoreUnavailable`` (the database is down), ``HandlerError``, ``ScriptError`` and ``DeliveryLoop``
(a modelling bug in the bundle: the incident keeps the text for the developer who fixes it).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import babel.messages.pofile as pofile

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "handlers", "readmodels", "analytics", "web")
DEVELOPER_ONLY = frozenset({"ConfigError", "StoreUnavailable", "HandlerError", "ScriptError", "DeliveryLoop"})
CATALOGUE = ROOT / "web" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def error_classes(trees: list[tuple[Path, ast.Module]]) -> tuple[set[str], set[str]]:
    """Return the names of the AftersalesError classes people read, and of the developer-only ones."""
    people, developers = {"AftersalesError"}, set(DEVELOPER_ONLY)
    classes = [node for _, tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    changed = True
    while changed:
        changed = False
        for node in classes:
            bases = {_name(b) for b in node.bases}
            for family in (developers, people):
                if node.name not in family and bases & family and node.name not in people | developers:
                    family.add(node.name)
                    changed = True
    return people - developers, developers


def _built(node: ast.expr) -> bool:
    """Tell whether an expression builds text from values: an f-string with values, ``%`` or ``.format``."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.IfExp):
        return _built(node.body) or _built(node.orelse)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # "a template: " + another template is fine
        return any(_built(side) or isinstance(side, ast.Call) for side in (node.left, node.right))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return isinstance(node.left, (ast.Constant, ast.JoinedStr))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return isinstance(node.func.value, (ast.Constant, ast.JoinedStr))
    return False


def built_messages() -> list[str]:
    """Return ``file:line: Class`` for every error a person reads whose message is built, not a template."""
    trees = list(_sources())
    people, _developers = error_classes(trees)
    makers = set(people) | {"FieldError"}
    for _, tree in trees:  # functions declared to return such an error (``refuse(...) -> InvalidInput``)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.returns is not None and _name(node.returns) in people:
                makers.add(node.name)
    found = []
    for path, tree in trees:
        own = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
               and (node.returns is None or _name(node.returns) not in people)}  # a local helper of that name
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in makers - own:
                arguments = [*node.args, *(k.value for k in node.keywords if k.arg in ("message", "why"))]
                if any(_built(a) for a in arguments):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {_name(node.func)}")
    return found


def test_errors_people_read_are_templates_with_parameters():
    built = built_messages()
    assert not built, ("these errors reach a person but build their message from values; pass an English "
                       "template and params={...} (and add its Chinese to messages.po):\n" + "\n".join(built))


def _texts(node: ast.expr) -> list[str]:
    """Return the template(s) an argument can be: a string, or either side of ``a if … else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _texts(node.body) + _texts(node.orelse)
    return []


def _templates() -> Iterator[tuple[str, str]]:
    """Yield where and what each error template is: errors with ``params=``, and ``FieldError.of`` templates."""
    trees = list(_sources())
    people, _developers = error_classes(trees)
    for path, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if _name(node.func) in people and node.args and any(k.arg == "params" for k in node.keywords):
                texts = _texts(node.args[0]) + [t for k in node.keywords if k.arg == "plural" for t in _texts(k.value)]
            elif _name(node.func) == "of" and len(node.args) > 1 and _name(node.func.value) == "FieldError":
                texts = _texts(node.args[1])
            else:
                continue
            yield from ((f"{path.relative_to(ROOT)}:{node.lineno}", text) for text in texts)


def test_every_error_template_has_its_chinese():
    with CATALOGUE.open("rb") as po:
        catalogue = pofile.read_po(po)
    plurals = {m.id[1]: m for m in catalogue if isinstance(m.id, tuple)}
    missing = []
    for where, template in _templates():
        entry = catalogue.get(template) or plurals.get(template)
        said = entry.string if entry else ""
        if not (all(said) if isinstance(said, tuple) else said):
            missing.append(f"{where}: {template}")
    assert not missing, "add the Chinese of these error templates to messages.po:\n" + "\n".join(missing)


def test_a_developer_only_error_is_not_what_a_person_reads():
    """Given the tree, when the classes are sorted, then the exempt ones are exactly the named developer-only ones."""
    people, developers = error_classes(list(_sources()))
    assert {"NotFound", "InvalidInput", "FormValidationError", "Conflict", "PermissionDenied"} <= people
    assert developers == DEVELOPER_ONLY and not people & developers
