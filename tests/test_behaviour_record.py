"""The kit refactor (issue 11) changed no number: SEED (plain and
small-patch) and MoCo-v2 give the losses, weights, BatchNorm statistics and
queues recorded from main before it (commit 54e7e1a).

``tests/data/behaviour_record.json`` holds, per case, each step's loss (as
``float.hex``) and, per state-dict tensor after the last step, its sum and
L2 norm in float64. They are compared to float32 rounding (``LOSS_REL``,
``STATE_REL``), not bit for bit: the same code gives last-bit differences on
different CPUs (the SIMD kernels round differently; the losses recorded on an
AMD EPYC differ by up to 1.7e-7 relative on an Intel Xeon), while a change
of behaviour moves them by orders of magnitude more. The losses are still
those of 54e7e1a; the state statistics replaced bit-exact SHA-256 digests
(which matched 54e7e1a on the AMD machine) on 2026-12-07, recorded from the
same code on the Intel machine.
Regenerate the record only when a change is *meant* to change the numbers:
``python tests/test_behaviour_record.py --write``.
"""
import json
import sys
from pathlib import Path

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmseed.registry import MODELS
from mmseed.utils import register_all_modules

register_all_modules()

RECORD = Path(__file__).parent / 'data' / 'behaviour_record.json'
STEPS = 3
BATCH = 8
TINY = dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8)
PREPROCESSOR = dict(type='SelfSupDataPreprocessor', mean=[128.] * 3,
                    std=[64.] * 3)


def neck(out=16, hid=64):
    return dict(type='MoCoV2Neck', in_channels=64, hid_channels=hid,
                out_channels=out, with_avg_pool=True)


def seed_cfg(checkpoint, num_patches=0):
    return dict(
        type='SEED', queue_len=20, feat_dim=16, num_patches=num_patches,
        data_preprocessor=PREPROCESSOR, backbone=TINY, neck=neck(),
        teacher=dict(type='FrozenTeacher', backbone=TINY, neck=neck(hid=32),
                     checkpoint=str(checkpoint)),
        loss=dict(type='SEEDLoss', student_temp=0.2, teacher_temp=0.05))


def moco_cfg():
    return dict(
        type='MoCoV2', queue_len=32, feat_dim=16, momentum=0.01,
        data_preprocessor=PREPROCESSOR, backbone=TINY, neck=neck(),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                  temperature=0.2))


def teacher_checkpoint(folder: Path) -> Path:
    """A random teacher in mmseed's format, with non-trivial BN stats."""
    torch.manual_seed(100)
    teacher = MODELS.build(seed_cfg('unused')['teacher'])
    for name, buf in teacher.named_buffers():
        if name.endswith('running_mean'):
            buf.normal_()
        elif name.endswith('running_var'):
            buf.uniform_(0.5, 2)
    path = folder / 'teacher.pth'
    torch.save({'state_dict': teacher.state_dict(),
                'meta': {'mmseed_format': 'teacher'}}, path)
    return path


def batches(sizes):
    """STEPS batches of uint8 views, one view per entry of ``sizes``."""
    generator = torch.Generator().manual_seed(0)
    for _ in range(STEPS):
        yield dict(inputs=[
            torch.randint(0, 256, (BATCH, 3, s, s), dtype=torch.uint8,
                          generator=generator) for s in sizes
        ], data_samples=[DataSample() for _ in range(BATCH)])


LOSS_REL = 1e-5  # float32 losses: a few ulps differ between CPUs
STATE_REL, STATE_ABS = 1e-4, 1e-6  # after 3 steps of SGD at lr 0.5


def summary(tensor: torch.Tensor) -> list:
    """A tensor's sum and L2 norm, in float64."""
    data = tensor.detach().cpu().double()
    return [data.sum().item(), data.norm().item()]


def run_case(name: str, folder: Path) -> dict:
    """Train one case for STEPS SGD steps on one thread; its record."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if name == 'moco':
            torch.manual_seed(0)
            model, sizes = MODELS.build(moco_cfg()), (16, 16)
        else:
            patches = 2 if name == 'seed_small_patch' else 0
            torch.manual_seed(0)
            model = MODELS.build(seed_cfg(teacher_checkpoint(folder),
                                          patches))
            model.init_weights()
            sizes = (32, ) + (16, ) * patches
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        wrapper = OptimWrapper(torch.optim.SGD(params, lr=0.5, momentum=0.9,
                                               weight_decay=1e-4))
        torch.manual_seed(1)  # MoCo's batch shuffle draws from it
        losses = []
        for data in batches(sizes):
            out = model.train_step(data, wrapper)
            losses.append({k: float(v).hex() for k, v in sorted(out.items())})
        return dict(losses=losses,
                    state={k: summary(v)
                           for k, v in model.state_dict().items()})
    finally:
        torch.set_num_threads(threads)


CASES = ('seed', 'seed_small_patch', 'moco')


@pytest.mark.parametrize('name', CASES)
def test_same_numbers_as_before_the_refactor(name, tmp_path):
    expected = json.loads(RECORD.read_text())[name]
    got = run_case(name, tmp_path)
    assert len(got['losses']) == len(expected['losses'])
    for step, (loss, want) in enumerate(zip(got['losses'],
                                            expected['losses'])):
        assert loss.keys() == want.keys(), step
        for key, value in want.items():
            assert float.fromhex(loss[key]) == pytest.approx(
                float.fromhex(value), rel=LOSS_REL), (step, key)
    assert got['state'].keys() == expected['state'].keys()
    changed = [k for k, v in expected['state'].items()
               if got['state'][k] != pytest.approx(v, rel=STATE_REL,
                                                    abs=STATE_ABS)]
    assert not changed, f'{len(changed)} tensors differ, e.g. {changed[:5]}'


if __name__ == '__main__':
    import tempfile
    if sys.argv[1:] != ['--write']:
        sys.exit('usage: python tests/test_behaviour_record.py --write')
    with tempfile.TemporaryDirectory() as tmp:
        record = {name: run_case(name, Path(tmp)) for name in CASES}
    RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + '\n')
    print(f'wrote {RECORD}')
