"""tools/analysis_tools/plot_curves.py: PNG curves from work-dir logs."""
import numpy as np
import pytest
from matplotlib.image import imread

from conftest import load_tool, run_tool
from mmseed.utils.work_dir_logs import Curves, LogError, read_curves, series
from test_collect_results import tiny_moco
from test_train import MOCO_CIFAR

plot = load_tool('tools/analysis_tools/plot_curves.py')
# matplotlib's first line colour, tab:blue (#1f77b4), and second, tab:orange.
BLUE, ORANGE = (0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e)


def pixels_of(png, rgb):
    """How many pixels of ``png`` have the colour ``rgb``."""
    image = np.round(imread(png)[..., :3] * 255).astype(int)
    return int((image == rgb).all(axis=-1).sum())


def assert_readable_curve(png, colours=(BLUE, )):
    image = imread(png)
    assert image.shape[:2] == (400, 600)  # figsize 6 x 4 inches at 100 dpi
    assert image[..., :3].std() > 0  # not blank
    for rgb in colours:
        assert pixels_of(png, rgb) > 50, f'no line of colour {rgb} in {png}'


def hand_written_runs():
    return {
        'teacher': Curves(
            train=[{'loss': 5.0, 'lr': 0.1, 'iter': i, 'step': i}
                   for i in range(1, 5)],
            val=[{'knn/top1_k20': 10.0 * e, 'step': e} for e in (1, 2)]),
        'student': Curves(
            train=[{'loss': 4.0, 'loss_seed': 4.0, 'iter': 1, 'step': 1}],
            val=[{'accuracy/top1': 50.0, 'step': 1}]),
    }


def test_default_keys_and_one_png_per_key(tmp_path):
    runs = hand_written_runs()
    keys = plot.default_keys(runs)
    assert keys == ['loss', 'accuracy/top1', 'knn/top1_k20']
    paths = plot.plot_curves(runs, keys, tmp_path)
    assert [p.name for p in paths] == [
        'loss.png', 'accuracy_top1.png', 'knn_top1_k20.png']
    assert_readable_curve(tmp_path / 'loss.png', (BLUE, ORANGE))
    # Only the teacher has a kNN curve: one line, the first colour.
    assert_readable_curve(tmp_path / 'knn_top1_k20.png', (BLUE, ))
    assert pixels_of(tmp_path / 'knn_top1_k20.png', ORANGE) == 0


def test_absent_key_lists_the_keys_that_exist(tmp_path):
    with pytest.raises(LogError) as err:
        plot.plot_curves(hand_written_runs(), ['knn/top1_k50'], tmp_path)
    assert str(err.value) == (
        "key 'knn/top1_k50' is not in the logs; they have: accuracy/top1, "
        'knn/top1_k20, loss, loss_seed, lr')


def test_cli_errors(tmp_path, capsys):
    (tmp_path / 'empty').mkdir()
    for argv, message in [
        ([str(tmp_path / 'empty')],
         f'no logs in {tmp_path / "empty"}: expected <timestamp>/vis_data/'
         'scalars.json, as tools/train.py writes them with LocalVisBackend'),
        ([str(tmp_path), str(tmp_path), '--labels', 'a'],
         '1 --labels for 2 work dirs; give one each'),
    ]:
        with pytest.raises(SystemExit) as exit_:
            plot.main(argv)
        assert exit_.value.code == 2
        assert capsys.readouterr().err == f'error: {message}\n'


def test_plots_a_real_resumed_run(cifar_slice, tmp_path):
    """1 epoch, then --resume to 2: 3 + 3 iterations in two log folders."""
    work = tmp_path / 'work'
    for epochs, extra in ((1, []), (2, ['--resume'])):
        result = run_tool('tools/train.py', MOCO_CIFAR, '--work-dir', work,
                          *extra, *tiny_moco(cifar_slice, epochs=epochs))
        assert result.returncode == 0, result.stderr[-3000:]
    assert len(list(work.glob('*/vis_data/scalars.json'))) == 2
    steps, losses = series(read_curves(work).train, 'loss')
    assert steps == list(range(1, 7))
    assert all(np.isfinite(losses))

    result = run_tool('tools/analysis_tools/plot_curves.py', work,
                      '--keys', 'loss', 'lr', '--labels', 'MoCo-v2',
                      '--out-dir', tmp_path / 'plots')
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        'wrote', str(tmp_path / 'plots/loss.png'),
        'wrote', str(tmp_path / 'plots/lr.png')]
    assert_readable_curve(tmp_path / 'plots/loss.png')
    assert_readable_curve(tmp_path / 'plots/lr.png')

    result = run_tool('tools/analysis_tools/plot_curves.py', work,
                      '--keys', 'knn/top1_k20', '--out-dir', tmp_path / 'no')
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: key 'knn/top1_k20' is not in the logs; they have: loss, lr")
    assert not (tmp_path / 'no').exists()
