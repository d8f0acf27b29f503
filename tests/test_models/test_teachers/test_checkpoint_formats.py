"""Teacher checkpoints of every supported format load into an mmseed teacher.

The fake checkpoints are built from real modules (torchvision / mmpretrain
ResNet-18 and mmpretrain necks) with randomised weights, laid out as each
project saves them, so both key names and shapes are true.
"""
from collections import OrderedDict
from functools import lru_cache
from typing import Callable, Dict, Optional
from unittest.mock import patch

import pytest
import torch
import torchvision
from hypothesis import given, settings
from hypothesis import strategies as st
from mmpretrain.models import LinearNeck, MoCoV2Neck, ResNet, SwAVNeck
from torch import nn

from conftest import load_tool, run_tool
from mmseed.models.teachers.checkpoint_formats import (
    FORMATS, convert_to_teacher_state_dict, detect_format,
    load_teacher_weights)
from mmseed.utils.checkpoint import CheckpointError, load_checkpoint_file

TOOL = 'tools/model_converters/convert_teacher.py'

NECKS: Dict[str, Callable[[], nn.Module]] = {
    'mocov2': lambda: MoCoV2Neck(512, 512, 128),
    'mocov1': lambda: LinearNeck(512, 128, norm_cfg=None),
    'swav': lambda: SwAVNeck(512, 512, 128, norm_cfg=dict(type='BN1d')),
}
NECK_LAST_LINEAR = {
    'mocov2': 'neck.mlp.2.weight',
    'mocov1': 'neck.fc.weight',
    'swav': 'neck.projection_neck.3.weight',
}


class Teacher(nn.Module):
    """The layout of an mmseed teacher: ``backbone`` and optional ``neck``."""

    def __init__(self, neck: Optional[str] = None, depth: int = 18) -> None:
        super().__init__()
        self.backbone = ResNet(depth=depth)
        self.neck = NECKS[neck]() if neck else None


@lru_cache(maxsize=None)
def randomised_state(neck: Optional[str] = None) -> Dict[str, torch.Tensor]:
    """A teacher state dict with every float tensor random (aliases kept).

    Cached: callers must not modify it.
    """
    teacher = Teacher(neck)
    with torch.no_grad():
        for tensor in teacher.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) + 0.1)
    return OrderedDict((k, v.clone()) for k, v in teacher.state_dict().items())


def part(state, prefix: str, new_prefix: str = '') -> Dict[str, torch.Tensor]:
    """Keys under ``prefix``, re-prefixed with ``new_prefix``."""
    return OrderedDict((new_prefix + k[len(prefix):], v)
                       for k, v in state.items() if k.startswith(prefix))


def torchvision_layout(state) -> Dict[str, torch.Tensor]:
    """Backbone keys as torchvision saves them, with its fc classifier."""
    out = part(state, 'backbone.')
    out['fc.weight'] = torch.randn(1000, 512)
    out['fc.bias'] = torch.randn(1000)
    return out


def moco_official(state, v2: bool = True) -> dict:
    """facebookresearch/moco main_moco.py's checkpoint."""
    sd = OrderedDict()
    for enc in ('encoder_q', 'encoder_k'):
        sd.update(part(state, 'backbone.', f'module.{enc}.'))
        if v2:
            sd.update(part(state, 'neck.mlp.', f'module.{enc}.fc.'))
        else:
            sd.update(part(state, 'neck.fc.', f'module.{enc}.fc.'))
    for key in [k for k in sd if k.startswith('module.encoder_k.')]:
        sd[key] = torch.zeros_like(sd[key])  # a different encoder
    sd['module.queue'] = torch.randn(128, 64)
    sd['module.queue_ptr'] = torch.zeros(1, dtype=torch.long)
    return {'epoch': 200, 'arch': 'resnet18', 'state_dict': sd,
            'optimizer': {}}


def swav_official(state) -> dict:
    """facebookresearch/swav: a plain DDP state dict."""
    sd = part(state, 'backbone.', 'module.')
    sd.update(part(state, 'neck.projection_neck.', 'module.projection_head.'))
    sd['module.prototypes.weight'] = torch.randn(300, 128)
    return sd


def mmpretrain_moco(state) -> dict:
    """An mmpretrain MoCo v2 checkpoint (momentum encoder, queue, meta)."""
    sd = OrderedDict(state)
    sd.update(part(state, 'backbone.', 'momentum_encoder.module.0.'))
    sd.update(part(state, 'neck.', 'momentum_encoder.module.1.'))
    sd['momentum_encoder.steps'] = torch.tensor(3)
    sd['queue'] = torch.randn(128, 64)
    sd['queue_ptr'] = torch.zeros(1, dtype=torch.long)
    return {'meta': {'epoch': 200}, 'state_dict': sd}


def mmseed_seed(state) -> dict:
    """An mmseed SEED training checkpoint: teacher, student and queue."""
    sd = part(state, '', 'teacher.')
    sd.update({k: torch.zeros_like(v) for k, v in state.items()})  # student
    sd['queue.queue'] = torch.randn(64, 128)
    return {'meta': {'epoch': 1}, 'state_dict': sd}


# name -> (neck, builder, expected format)
CASES = {
    'moco_v2': ('mocov2', moco_official, 'moco'),
    'moco_v1': ('mocov1', lambda s: moco_official(s, v2=False), 'moco'),
    'swav': ('swav', swav_official, 'swav'),
    'torchvision': (None, torchvision_layout, 'torchvision'),
    'torchvision_ddp': (None, lambda s: {'state_dict': OrderedDict(
        ('module.' + k, v) for k, v in torchvision_layout(s).items())},
        'torchvision'),
    'simclr': (None, lambda s: {'model': OrderedDict(
        ('module.module.module.' + k, v)
        for k, v in torchvision_layout(s).items())}, 'simclr'),
    'mmpretrain': ('mocov2', mmpretrain_moco, 'mmpretrain'),
    'mmseed': ('mocov2', lambda s: {
        'state_dict': OrderedDict(s),
        'meta': {'mmseed_format': 'teacher', 'source_format': 'moco'}
    }, 'mmseed'),
    'mmseed_seed': ('mocov2', mmseed_seed, 'mmseed_seed'),
}


def assert_loaded(teacher: nn.Module, expected, neck: Optional[str]) -> None:
    got = teacher.state_dict()
    assert got.keys() == expected.keys()
    assert all(torch.equal(got[k], expected[k]) for k in expected)
    key = 'backbone.layer4.1.bn2.running_var'
    assert torch.equal(got[key], expected[key])
    if neck:
        key = NECK_LAST_LINEAR[neck]
        assert torch.equal(got[key], expected[key])


@pytest.mark.parametrize('name', list(CASES))
def test_every_format_loads_strictly(name, tmp_path):
    neck, build, fmt = CASES[name]
    expected = randomised_state(neck)
    checkpoint = build(expected)
    assert detect_format(checkpoint) == fmt

    converted, got_fmt = convert_to_teacher_state_dict(checkpoint)
    assert got_fmt == fmt
    assert isinstance(converted, OrderedDict)
    assert all(k.startswith(('backbone.', 'neck.')) for k in converted)

    path = tmp_path / f'{name}.pth'
    torch.save(checkpoint, path)
    teacher = Teacher(neck)
    assert load_teacher_weights(teacher, str(path)) == fmt
    assert_loaded(teacher, expected, neck)


def test_formats_constant_lists_every_case():
    assert {fmt for _, _, fmt in CASES.values()} == set(FORMATS)


def test_wrong_depth_names_format_and_shapes(tmp_path):
    path = tmp_path / 'r50.pth'
    torch.save(torchvision.models.resnet50().state_dict(), path)
    with pytest.raises(CheckpointError) as err:
        load_teacher_weights(Teacher(), str(path))
    message = str(err.value)
    assert 'torchvision format' in message
    assert 'shape mismatches' in message
    assert 'backbone.conv1.weight' not in message  # same shape in both
    assert 'checkpoint (64, 256, 1, 1) vs model (64, 64, 3, 3)' in message
    assert 'model.teacher.backbone.depth' in message
    assert '\n' not in message


def test_unknown_keys_are_listed(tmp_path):
    path = tmp_path / 'odd.pth'
    torch.save({'encoder.stem.weight': torch.zeros(1),
                'head.fc.weight': torch.zeros(1)}, path)
    with pytest.raises(CheckpointError, match='encoder.stem.weight') as err:
        load_teacher_weights(Teacher(), str(path))
    assert 'unknown teacher checkpoint format' in str(err.value)
    assert 'module.encoder_q' in str(err.value)  # the supported formats


def test_torchvision_into_teacher_with_neck_says_no_head(tmp_path):
    path = tmp_path / 'tv.pth'
    torch.save(torchvision_layout(randomised_state()), path)
    with pytest.raises(CheckpointError, match='no projection head') as err:
        load_teacher_weights(Teacher('mocov2'), str(path))
    assert 'model.teacher.neck=None' in str(err.value)


def test_not_strict_loads_backbone_of_headless_checkpoint(tmp_path):
    expected = randomised_state()
    path = tmp_path / 'tv.pth'
    torch.save(torchvision_layout(expected), path)
    teacher = Teacher('mocov2')
    assert load_teacher_weights(teacher, str(path), strict=False) \
        == 'torchvision'
    key = 'backbone.layer4.1.bn2.running_var'
    assert torch.equal(teacher.state_dict()[key], expected[key])


@pytest.mark.parametrize('checkpoint', [
    torch.zeros(3), [1, 2], {1: torch.zeros(1)},
    {'backbone.conv1.weight': 'not a tensor'},
    {'neck.mlp.0.weight': torch.zeros(1)},
])
def test_unusable_objects_raise_checkpoint_error(checkpoint):
    with pytest.raises(CheckpointError):
        convert_to_teacher_state_dict(checkpoint)


def test_forced_format(tmp_path):
    state = randomised_state()
    converted, fmt = convert_to_teacher_state_dict(
        torchvision_layout(state), fmt='simclr')
    assert fmt == 'simclr' and converted.keys() == state.keys()
    with pytest.raises(CheckpointError, match='unknown checkpoint format'):
        convert_to_teacher_state_dict(state, fmt='dino')
    with pytest.raises(CheckpointError, match='no backbone weights'):
        convert_to_teacher_state_dict(torchvision_layout(state), fmt='moco')


def test_cli_converts_and_output_loads(tmp_path):
    expected = randomised_state('mocov2')
    src, dst = tmp_path / 'moco.pth.tar', tmp_path / 'out' / 'teacher.pth'
    torch.save(moco_official(expected), src)
    result = run_tool(TOOL, src, dst)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'detected format: moco' in result.stdout
    assert '120 backbone and 4 neck tensors' in result.stdout

    saved = load_checkpoint_file(dst, allow_pickle=False)
    assert saved['meta'] == {'mmseed_format': 'teacher',
                             'source_format': 'moco', 'source': str(src)}
    teacher = Teacher('mocov2')
    assert load_teacher_weights(teacher, str(dst)) == 'mmseed'
    assert_loaded(teacher, expected, 'mocov2')


def test_cli_bad_input_exits_2_with_one_line(tmp_path):
    src = tmp_path / 'bad.pth'
    src.write_text('not a checkpoint')
    result = run_tool(TOOL, src, tmp_path / 'out.pth')
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), result.stderr
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'out.pth').exists()


def test_cli_unknown_format_exits_2(tmp_path, monkeypatch, capsys):
    """In-process (no second interpreter start): same error path."""
    src = tmp_path / 'odd.pth'
    torch.save({'foo.weight': torch.zeros(1)}, src)
    tool = load_tool(TOOL)
    monkeypatch.setattr('sys.argv', [TOOL, str(src), str(tmp_path / 'o')])
    monkeypatch.delenv('MMSEED_DEBUG', raising=False)
    with pytest.raises(SystemExit) as exit_info:
        tool.run_with_clear_errors(tool.main)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: unknown teacher')
    assert 'foo.weight' in lines[0]


KEYS = st.one_of(
    st.text(max_size=12),
    st.builds(str.__add__,
              st.sampled_from([
                  'module.', 'module.encoder_q.', 'module.encoder_q.fc.',
                  'backbone.', 'neck.', 'teacher.backbone.', 'teacher.neck.',
                  'conv1.', 'projection_head.', 'prototypes.', 'fc.'
              ]), st.text(max_size=8)),
    st.sampled_from(['conv1.weight', 'projection_head.1.running_mean']))
VALUES = st.sampled_from([torch.zeros(2), torch.ones(1, 1), 1, None, 'x'])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=8),
       st.sampled_from([None, 'state_dict', 'model']))
def test_random_dicts_convert_or_raise_checkpoint_error(state, wrapper):
    checkpoint = {wrapper: state} if wrapper else state
    try:
        converted, fmt = convert_to_teacher_state_dict(checkpoint)
    except CheckpointError:
        return
    assert fmt in FORMATS
    assert all(isinstance(v, torch.Tensor) for v in converted.values())
    assert all(k.startswith(('backbone.', 'neck.')) for k in converted)


MUTATION = st.one_of(
    st.tuples(st.just('drop'), st.integers(0, 10**6)),
    st.tuples(st.just('rename'), st.integers(0, 10**6),
              st.sampled_from(['_', '.x', '.weight', '0'])),
    st.tuples(st.just('reshape'), st.integers(0, 10**6)),
    st.tuples(st.just('not_a_tensor'), st.integers(0, 10**6),
              st.sampled_from([None, 1.5, 'w', [1]])),
    st.tuples(st.just('add'), KEYS),
)


def mutate(state: dict, mutations) -> dict:
    """A copy of ``state`` with keys dropped, renamed, reshaped, replaced."""
    state = OrderedDict(state)
    for op, *args in mutations:
        if op == 'add':
            state[args[0]] = torch.zeros(2)
            continue
        if not state:
            continue
        key = list(state)[args[0] % len(state)]
        if op == 'drop':
            del state[key]
        elif op == 'rename':
            state[key + args[1]] = state.pop(key)
        elif op == 'reshape':
            value = state[key]
            state[key] = (torch.zeros(value.numel() + 1) if isinstance(
                value, torch.Tensor) else torch.zeros(1))
        else:
            state[key] = args[1]
    return state


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(CASES)), st.lists(MUTATION, max_size=4),
       st.booleans())
def test_mutated_real_checkpoints_load_exactly_or_raise_checkpoint_error(
        name, mutations, strict):
    """Real key sets of every format, damaged: a load is exact or refused."""
    neck, build, _ = CASES[name]
    checkpoint = build(randomised_state(neck))
    holder = next((k for k in ('state_dict', 'model') if k in checkpoint),
                  None) if isinstance(checkpoint, dict) else None
    if holder:
        checkpoint = dict(checkpoint)
        checkpoint[holder] = mutate(checkpoint[holder], mutations)
    else:
        checkpoint = mutate(checkpoint, mutations)
    teacher = Teacher(neck)
    with patch('mmseed.models.teachers.checkpoint_formats.'
               'load_checkpoint_file', lambda path: checkpoint):
        try:
            load_teacher_weights(teacher, 'mutated.pth', strict=strict)
        except CheckpointError:
            return
    converted, _ = convert_to_teacher_state_dict(checkpoint)
    loaded = teacher.state_dict()
    if strict:
        assert loaded.keys() == converted.keys()
    for key, value in converted.items():
        if key in loaded:
            assert torch.equal(loaded[key], value), key
