"""Reading mmengine work-dir logs, hand-written in mmengine's format."""
import json

import pytest

from mmseed.utils.work_dir_logs import (LogError, concat_resumed,
                                        eval_metrics, parse_scalars,
                                        read_curves, series)


def train(step, loss, epoch):
    return {'lr': 0.1, 'data_time': 0.01, 'loss': loss, 'time': 0.2,
            'epoch': epoch, 'iter': step, 'step': step}


def val(epoch, top1):
    return {'knn/top1_k20': top1, 'data_time': 0.01, 'time': 0.1,
            'step': epoch}


def write_run(work, timestamp, records, tail=''):
    path = work / timestamp / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records) + tail)


def resumed_work_dir(root):
    """2 iterations per epoch. The first run logged 3 epochs and died with
    its last checkpoint at epoch 2; the resume logs epochs 3 and 4 again."""
    work = root / 'run'
    write_run(work, '20240101_000000', [
        train(1, 9.0, 1), train(2, 8.0, 1), val(1, 10.0),
        train(3, 7.0, 2), train(4, 6.0, 2), val(2, 20.0),
        train(5, 5.0, 3), train(6, 4.0, 3), val(3, 30.0),
    ], tail='{"lr": 0.1, "loss"')  # killed while writing
    (work / '20240101_050000' / 'vis_data').mkdir(parents=True)  # no logs
    write_run(work, '20240101_060000', [
        train(5, 5.5, 3), train(6, 4.5, 3), val(3, 33.0),
        train(7, 3.5, 4), train(8, 2.5, 4), val(4, 44.0),
    ])
    (work / 'plots').mkdir()  # not a run folder
    return work


def test_resumed_run_is_joined_without_repeated_steps(tmp_path):
    curves = read_curves(resumed_work_dir(tmp_path))
    assert series(curves.train, 'loss') == (
        [1, 2, 3, 4, 5, 6, 7, 8], [9.0, 8.0, 7.0, 6.0, 5.5, 4.5, 3.5, 2.5])
    assert series(curves.val, 'knn/top1_k20') == (
        [1, 2, 3, 4], [10.0, 20.0, 33.0, 44.0])
    assert series(curves.train, 'knn/top1_k20') == ([], [])


def test_concat_resumed_drops_from_the_restart_step():
    a = [{'step': s, 'v': 'a'} for s in (10, 20, 30, 40)]
    b = [{'step': s, 'v': 'b'} for s in (25, 35)]
    assert concat_resumed([a, [], b]) == a[:2] + b
    # A new run from scratch in the same work dir replaces the old one.
    assert concat_resumed([a, a[:1]]) == a[:1]


def test_bad_lines_are_errors_except_a_truncated_last_one():
    lines = ['{"loss": 1.0, "iter": 1, "step": 1}\n', '\n', '{"loss": 2']
    assert parse_scalars(lines) == [{'loss': 1.0, 'iter': 1, 'step': 1}]
    with pytest.raises(LogError, match='f.json, line 1: not JSON: {"loss": 2'):
        parse_scalars(lines[::-1], 'f.json')
    with pytest.raises(LogError, match=r'line 1: not an mmengine scalar '
                       r'record \(no "step"\)'):
        parse_scalars(['{"loss": 1.0}'])


def test_missing_logs_are_clear_errors(tmp_path):
    with pytest.raises(LogError, match=f'work dir not found: {tmp_path}/x'):
        read_curves(tmp_path / 'x')
    (tmp_path / '20240101_000000').mkdir()
    with pytest.raises(LogError, match=f'no logs in {tmp_path}: expected '
                       '<timestamp>/vis_data/scalars.json'):
        read_curves(tmp_path)


def test_eval_metrics_takes_the_latest_evaluation(tmp_path):
    work = resumed_work_dir(tmp_path)
    assert eval_metrics(work) == {'knn/top1_k20': 44.0}
    # A later tools/test.py run: <timestamp>/<timestamp>.json.
    folder = work / '20240102_000000'
    folder.mkdir()
    (folder / '20240102_000000.json').write_text(json.dumps(
        {'knn/top1_k20': 50.5, 'knn/top1_k200': 48.0, 'data_time': 0.1,
         'time': 0.3, 'confusion': [[1, 0], [0, 1]]}))
    assert eval_metrics(work) == {'knn/top1_k20': 50.5, 'knn/top1_k200': 48.0}
