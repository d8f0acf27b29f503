"""mmseed's modules import each other without cycles.

Every import of an mmseed module counts, at module level or inside a
function: a cycle hidden inside a function is still two modules that cannot
be understood (or tested) one without the other.
"""
import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / 'mmseed'


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix('').parts)
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def import_graph() -> dict:
    """``{module: {mmseed modules it imports}}``."""
    files = {module_name(p): p for p in PACKAGE.rglob('*.py')}
    graph = {}
    for name, path in files.items():
        package = name if path.name == '__init__.py' else name.rpartition(
            '.')[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ''
                if node.level:
                    anchor = package.split('.')
                    anchor = anchor[:len(anchor) - node.level + 1]
                    base = '.'.join(anchor + ([base] if base else []))
                # `from pkg import sub` names the submodule when there is one.
                candidates = [f'{base}.{alias.name}' if f'{base}.{alias.name}'
                              in files else base for alias in node.names]
            else:
                continue
            targets.update(c for c in candidates if c in files and c != name)
        graph[name] = targets
    return graph


def find_cycle(graph: dict):
    """One import cycle as a list of modules, or None."""
    state = {}  # 1: on the current path, 2: done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_the_graph_is_read():
    graph = import_graph()
    assert 'mmseed.errors' in graph['mmseed.utils.config_check']
    assert 'mmseed.models.memories' in graph['mmseed.models.algorithms.seed']


def test_no_import_cycle_inside_mmseed():
    assert find_cycle(import_graph()) is None


def test_a_cycle_is_found():
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == [
        'a', 'b', 'c', 'a']
