"""Shared modules know no method: a method's knowledge lives in its files.

The code of the shared modules (names, attributes and strings other than
docstrings; comments are not code) names no algorithm, loss or method-
specific neck. Checkpoint formats are named after the projects that write
them (``moco``, ``swav``) and are left out, as are citations in docstrings.
"""
import ast

import pytest

from conftest import REPO

SHARED = [
    *sorted((REPO / 'mmseed' / 'utils').glob('*.py')),
    *sorted((REPO / 'mmseed' / 'engine').rglob('*.py')),
    *sorted((REPO / 'mmseed' / 'models' / 'memories').glob('*.py')),
    *sorted((REPO / 'mmseed' / 'models' / 'utils').glob('*.py')),
    REPO / 'mmseed' / 'models' / 'teachers' / 'frozen_teacher.py',
    REPO / 'mmseed' / 'models' / 'losses' / 'functional.py',
    REPO / 'mmseed' / 'compat.py',
    REPO / 'mmseed' / 'errors.py',
]
METHOD_WORDS = ('seed', 'moco', 'swav', 'simclr', 'dogo', 'crd', 'esvit',
                'dino', 'densecl', 'byol')


def code_words(path):
    """Identifiers and non-docstring strings of a module."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef,
                                       ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.lineno, node.id
        elif isinstance(node, ast.Attribute):
            yield node.lineno, node.attr
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            yield node.lineno, node.name
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in docstrings:
            yield node.lineno, node.value


def names_method(word):
    """Whether a name or string names a method. ``seed`` alone is a random
    seed (``randomness.seed``, ``EpochSeedHook``); the method is ``SEED``,
    the project ``mmseed``."""
    word = word.replace('MMSEED', '').replace('mmseed', '')
    lowered = word.lower()
    return (any(m in lowered for m in METHOD_WORDS if m != 'seed')
            or 'SEED' in word or 'seed_loss' in lowered
            or 'algorithms.seed' in lowered)


@pytest.mark.parametrize('path', SHARED, ids=lambda p: p.name)
def test_shared_module_names_no_method(path):
    found = [(line, word) for line, word in code_words(path)
             if names_method(word)]
    assert not found, f'{path.relative_to(REPO)} names methods: {found[:5]}'


def test_the_check_sees_method_names():
    words = ['SEEDLoss', "'MoCoV2'", 'SwAVNeck', 'seed_loss', 'manual_seed',
             'EpochSeedHook', 'randomness.seed', 'MMSEED_DEBUG', 'x']
    assert [w for w in words if names_method(w)] == words[:4]
