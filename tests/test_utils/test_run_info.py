"""run_info.json: what tools/train.py and tools/test.py record per run."""
import json
import os
import shlex
import socket
import subprocess

import mmengine
import numpy
import torch

from conftest import run_tool
from mmseed.utils.run_info import (RUN_INFO_FILE, append_run_info, cpu_model,
                                   git_state, package_versions, read_run_info)
from test_tools.test_collect_results import classifier_config, tiny_moco
from test_tools.test_train import MOCO_CIFAR


def test_append_keeps_every_record(tmp_path):
    append_run_info(tmp_path, {'seed': 1})
    append_run_info(tmp_path, {'seed': 2})
    assert read_run_info(tmp_path) == [{'seed': 1}, {'seed': 2}]
    assert sorted(os.listdir(tmp_path)) == [RUN_INFO_FILE]  # no temp file left


def test_unreadable_file_is_kept_aside(tmp_path):
    (tmp_path / RUN_INFO_FILE).write_text('{"truncat')
    append_run_info(tmp_path, {'seed': 3})
    assert (tmp_path / 'run_info.unreadable1.json').read_text() == '{"truncat'
    assert read_run_info(tmp_path) == [{'seed': 3}]


def test_versions_and_cpu_are_the_real_ones(tmp_path):
    versions = package_versions()
    assert versions['torch'] == torch.__version__
    assert versions['mmengine'] == mmengine.__version__
    assert versions['numpy'] == numpy.__version__
    assert versions['mmseed'] == '0.1.0'
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text('processor\t: 0\nmodel name\t: Test CPU @ 3GHz\n')
    assert cpu_model(str(cpuinfo)) == 'Test CPU @ 3GHz'


def test_git_state(tmp_path):
    assert git_state(tmp_path) is None  # not a repository: no failure
    git = ['git', '-C', str(tmp_path), '-c', 'user.name=t',
           '-c', 'user.email=t@t']
    subprocess.run(git + ['init', '-q'], check=True)
    (tmp_path / 'a.txt').write_text('1')
    subprocess.run(git + ['add', 'a.txt'], check=True)
    subprocess.run(git + ['commit', '-qm', 'c'], check=True)
    head = subprocess.run(git + ['rev-parse', 'HEAD'], check=True,
                          capture_output=True, text=True).stdout.strip()
    assert git_state(tmp_path) == {'commit': head, 'dirty': False}
    (tmp_path / 'a.txt').write_text('2')
    assert git_state(tmp_path) == {'commit': head, 'dirty': True}
    # A folder inside a repository is not the repository.
    (tmp_path / 'sub').mkdir()
    assert git_state(tmp_path / 'sub') is None


def test_train_and_resume_record_the_real_seed(cifar_slice, tmp_path):
    """Seed None: mmengine draws one, a resume restores the checkpoint's."""
    work = tmp_path / 'work'
    tool = ('tools/train.py', MOCO_CIFAR, '--work-dir', str(work))
    runs = [
        (*tool, *tiny_moco(cifar_slice, epochs=1), 'randomness.seed=None'),
        (*tool, '--resume', *tiny_moco(cifar_slice, epochs=2),
         'randomness.seed=None'),
    ]
    result = run_tool(*runs[0])
    assert result.returncode == 0, result.stderr[-3000:]
    [first] = read_run_info(work)
    result = run_tool(*runs[1])
    assert result.returncode == 0, result.stderr[-3000:]
    records = read_run_info(work)
    assert len(records) == 2 and records[0] == first  # appended, not rewritten

    # The resumed runner drew a new seed, then took the checkpoint's.
    seed = torch.load(work / 'epoch_1.pth', weights_only=False)['meta']['seed']
    assert isinstance(seed, int)
    assert [r['seed'] for r in records] == [seed, seed]
    assert [r['resume'] for r in records] == [False, True]
    assert records[0]['timestamp'] < records[1]['timestamp']
    for record, args in zip(records, runs):
        assert record['command'] == shlex.join(['python', *args])
        assert record['mode'] == 'train'
        assert record['config'] == MOCO_CIFAR
        assert record['deterministic'] is True
        assert record['work_dir'] == str(work)
        log_dir = work / record['timestamp']
        assert (log_dir / 'vis_data' / 'config.py').is_file()
        assert record['packages']['torch'] == torch.__version__
        assert record['machine']['hostname'] == socket.gethostname()
        assert record['machine']['cpu_cores'] == os.cpu_count()
        assert record['machine']['gpus'] == []
        assert record['world_size'] == 1
        assert record['utc_time'].endswith('+00:00')
        # mmseed's repository is a git checkout here.
        assert record['git'] == git_state()


def test_test_tool_records_its_run(cifar_slice, tmp_path):
    """tools/test.py on a pretrained backbone writes a 'test' record."""
    pretrain = tmp_path / 'pretrain'
    result = run_tool('tools/train.py', MOCO_CIFAR, '--work-dir', pretrain,
                      *tiny_moco(cifar_slice, epochs=1))
    assert result.returncode == 0, result.stderr[-3000:]
    config = classifier_config(tmp_path, cifar_slice)
    args = ('tools/test.py', str(config), str(pretrain / 'epoch_1.pth'),
            '--work-dir', str(tmp_path / 'eval'), '--cfg-options',
            'randomness.seed=7')
    result = run_tool(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    [record] = read_run_info(tmp_path / 'eval')
    assert record['mode'] == 'test'
    assert record['command'] == shlex.join(['python', *args])
    assert record['seed'] == 7 and record['deterministic'] is False
    assert record['load_from'] == str(pretrain / 'epoch_1.pth')
    metrics = tmp_path / 'eval' / record['timestamp'] / (
        record['timestamp'] + '.json')
    assert 'accuracy/top1' in json.loads(metrics.read_text())
