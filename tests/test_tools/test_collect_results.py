"""tools/analysis_tools/collect_results.py: evaluation results -> Markdown."""
import json
from pathlib import Path

import pytest

from conftest import REPO, load_tool, run_tool
from mmseed.utils.work_dir_logs import LogError, eval_metrics
from test_tools.test_train import MOCO_CIFAR, NARROW, small_run

collect = load_tool('tools/analysis_tools/collect_results.py')

HEADER = ('| model | architecture | pretraining | epochs | kNN top-1 (k=20) | '
          'kNN top-1 (k=200) | linear top-1 | config | machine | command |\n'
          '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n')


def tiny_moco(data_root, epochs):
    """``small_run`` options with an 8-channel ResNet-18 on 48 images:
    3 iterations per epoch, quick on a busy CPU."""
    return small_run(data_root, epochs=epochs) + NARROW + [
        'train_dataloader.dataset.indices=48']


def classifier_config(folder: Path, data_root: Path) -> Path:
    """A small ImageClassifier config on the folder-layout data: a frozen
    8-channel CIFAR ResNet-18 (as ``tiny_moco``) and a linear head, as a
    linear evaluation, with train and test splits."""
    path = folder / 'tiny_linear.py'
    runtime = REPO / 'configs/_base_/default_runtime.py'
    path.write_text(f'''
_base_ = [{str(runtime)!r}]
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10),
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8,
                  base_channels=8, frozen_stages=4, norm_eval=True),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=64,
              loss=dict(type='CrossEntropyLoss')))
def loader(split, shuffle):
    return dict(
        batch_size=16, num_workers=0, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        dataset=dict(type='CustomDataset', data_root={str(data_root)!r},
                     data_prefix=split, pipeline=[
                         dict(type='LoadImageFromFile'),
                         dict(type='PackInputs')]))
train_dataloader = loader('train', True)
val_dataloader = test_dataloader = loader('test', False)
del loader
val_evaluator = test_evaluator = dict(type='Accuracy', topk=(1, ))
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
val_cfg = test_cfg = dict()
''')
    return path


def write_lines(path: Path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))


def fake_pretrain(work: Path, epochs_logged: int, resumes: int = 0):
    """A work dir as tools/train.py leaves it: run_info.json, the dumped
    config, scalars.json."""
    work.mkdir(parents=True)
    (work / 'seed_r50_to_mbv3.py').write_text(
        "model = dict(type='SEED', backbone=dict(type='MobileNetV3', "
        "arch='large'), teacher=dict(type='FrozenTeacher', "
        "backbone=dict(type='ResNet', depth=50)))\n"
        'train_cfg = dict(by_epoch=True, max_epochs=200)\n')
    record = {
        'mode': 'train', 'config': 'configs/seed/seed_r50_to_mbv3.py',
        'command': 'python tools/train.py configs/seed/seed_r50_to_mbv3.py '
                   "--cfg-options 'a=x|y'",
        'world_size': 8,
        'machine': {'cpu': 'Xeon', 'cpu_cores': 96,
                    'gpus': ['NVIDIA A100-SXM4-80GB'] * 8},
    }
    test_record = {'mode': 'test', 'command': 'python tools/test.py ...'}
    runs = [record, test_record] + [dict(record, command='resumed')] * resumes
    (work / 'run_info.json').write_text(json.dumps(runs))
    write_lines(work / '20240101_000000/vis_data/scalars.json', [
        {'lr': 0.03, 'loss': 5.0, 'epoch': e, 'iter': 10, 'step': 10 * e}
        for e in range(1, epochs_logged + 1)])


def test_table_from_hand_written_work_dirs(tmp_path):
    fake_pretrain(tmp_path / 'seed', epochs_logged=200, resumes=1)
    # kNN by tools/test.py: one JSON object in <ts>/<ts>.json. An older
    # evaluation in the same work dir is superseded.
    (tmp_path / 'knn/20240102_000000').mkdir(parents=True)
    (tmp_path / 'knn/20240102_000000/20240102_000000.json').write_text(
        json.dumps({'knn/top1_k20': 1.0, 'knn/top1_k200': 2.0}))
    (tmp_path / 'knn/20240103_000000').mkdir(parents=True)
    (tmp_path / 'knn/20240103_000000/20240103_000000.json').write_text(
        json.dumps({'knn/top1_k20': 61.2345, 'knn/top1_k200': 58.0051,
                    'data_time': 0.1, 'time': 0.5}))
    # Linear evaluation by tools/train.py: the last validation line counts.
    write_lines(tmp_path / 'linear/20240104_000000/vis_data/scalars.json', [
        {'lr': 30.0, 'loss': 2.0, 'epoch': 1, 'iter': 5, 'step': 5},
        {'accuracy/top1': 40.0, 'data_time': 0.1, 'time': 0.2, 'step': 1},
        {'lr': 30.0, 'loss': 1.0, 'epoch': 2, 'iter': 5, 'step': 10},
        {'accuracy/top1': 66.666, 'data_time': 0.1, 'time': 0.2, 'step': 2},
    ])
    fake_pretrain(tmp_path / 'stopped', epochs_logged=37)
    (tmp_path / 'stopped/run_info.json').unlink()  # e.g. an older run

    rows = [
        collect.parse_row(f'SEED student|{tmp_path}/seed|'
                          f'{tmp_path}/knn,{tmp_path}/linear'),
        collect.parse_row(f'stopped|{tmp_path}/stopped'),
    ]
    table = collect.format_table([collect.collect_row(r) for r in rows])
    assert table == HEADER + (
        '| SEED student | MobileNetV3-large | SEED from ResNet-50 | 200 | '
        '61.23 | 58.01 | 66.67 | `configs/seed/seed_r50_to_mbv3.py` | '
        '8x NVIDIA A100-SXM4-80GB | `python tools/train.py '
        r"configs/seed/seed_r50_to_mbv3.py --cfg-options 'a=x\|y'` "
        '(+1 resumed) |\n'
        '| stopped | MobileNetV3-large | SEED from ResNet-50 | 37 of 200 | '
        f'— | — | — | `{tmp_path}/stopped/seed_r50_to_mbv3.py` | — | — '
        '|\n')


def test_cli_writes_the_file(tmp_path):
    fake_pretrain(tmp_path / 'run', epochs_logged=200)
    out = tmp_path / 'docs' / 'results.md'
    result = run_tool('tools/analysis_tools/collect_results.py', '--row',
                      f'teacher|{tmp_path}/run|', '--out', out)
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith(HEADER + '| teacher | MobileNetV3-large')


@pytest.mark.parametrize('row, message', [
    ('x|{tmp}/nope|', 'work dir not found: {tmp}/nope'),
    ('just-a-name', "--row 'just-a-name': expected "
     '"NAME|PRETRAIN_DIR|EVAL_DIR[,EVAL_DIR...]"'),
    ('x|{tmp}|', 'no config dumped in {tmp}: expected the one .py file that '
     'tools/train.py writes there'),
    ('x|{tmp}/run|{tmp}/run', 'no evaluation metrics in {tmp}/run: expected '
     '<timestamp>/<timestamp>.json (tools/test.py) or validation lines in '
     '<timestamp>/vis_data/scalars.json (tools/train.py)'),
])
def test_bad_input_is_a_one_line_error(row, message, tmp_path, capsys):
    fake_pretrain(tmp_path / 'run', epochs_logged=200)
    with pytest.raises(SystemExit) as exit_:
        collect.main(['--row', row.format(tmp=tmp_path)])
    assert exit_.value.code == 2
    message = message.format(tmp=tmp_path)
    assert capsys.readouterr().err == f'error: {message}\n'


def test_the_same_metric_twice_is_an_error(tmp_path):
    fake_pretrain(tmp_path / 'run', epochs_logged=200)
    for name in ('a', 'b'):
        write_lines(tmp_path / name / '20240101_000000/vis_data/scalars.json',
                    [{'accuracy/top1': 50.0, 'step': 1}])
    row = collect.parse_row(f'x|{tmp_path}/run|{tmp_path}/a,{tmp_path}/b')
    with pytest.raises(LogError, match='accuracy/top1 is in both'):
        collect.collect_row(row)


def test_table_from_real_runs(cifar_slice, tmp_path):
    """A MoCo run of tools/train.py and a linear evaluation of its backbone."""
    pretrain, linear = tmp_path / 'moco', tmp_path / 'linear'
    result = run_tool('tools/train.py', MOCO_CIFAR, '--work-dir', pretrain,
                      *tiny_moco(cifar_slice, epochs=1))
    assert result.returncode == 0, result.stderr[-3000:]
    config = classifier_config(tmp_path, cifar_slice)
    result = run_tool('tools/train.py', config, '--work-dir', linear,
                      '--cfg-options', f'load_from={pretrain}/epoch_1.pth')
    assert result.returncode == 0, result.stderr[-3000:]

    [cells] = [collect.collect_row(collect.parse_row(
        f'MoCo-v2 teacher|{pretrain}|{linear}'))]
    [scalars] = linear.glob('*/vis_data/scalars.json')
    last_line = json.loads(scalars.read_text().splitlines()[-1])
    accuracy = last_line['accuracy/top1']
    assert eval_metrics(linear) == {'accuracy/top1': accuracy}
    assert cells['linear top-1'] == f'{accuracy:.2f}'
    assert cells['kNN top-1 (k=20)'] == cells['kNN top-1 (k=200)'] == '—'
    assert cells['architecture'] == 'ResNet_CIFAR-18 (base width 8)'
    assert cells['pretraining'] == 'MoCoV2'
    assert cells['epochs'] == '1'
    assert cells['config'] == f'`{MOCO_CIFAR}`'
    assert cells['machine'].startswith('CPU: ')
    assert cells['command'].startswith(
        f'`python tools/train.py {MOCO_CIFAR} --work-dir {pretrain} ')


def test_backbone_names():
    assert collect.describe_backbone(dict(
        type='ResNet_CIFAR', depth=18, base_channels=32)) == (
            'ResNet_CIFAR-18 (base width 32)')
    # A scoped type and a custom arch dict (the reduced CIFAR Swin).
    swin = dict(type='mmpretrain.SwinTransformer',
                arch=dict(embed_dims=48, depths=[2, 2, 2]))
    assert collect.describe_backbone(swin) == (
        'SwinTransformer (embed_dims 48, depths 2-2-2)')
