"""tools/benchmarks/throughput.py and data_throughput.py, run for a few
iterations on CPU (CIFAR configs, batch 4): the reports are complete and
consistent, and the plain PyTorch loop computes what mmseed computes."""
import json
import math
import re
import sys
import types

import pytest
import torch
from mmengine.config import Config

from conftest import REPO, load_tool, run_tool

SEED_R18W05 = 'configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py'
SEED_MBV3 = 'configs/seed/seed_r18-cifar_to_mbv3_cifar10.py'
SEED_IMAGENET = 'configs/seed/seed_r50_to_r18.py'
MOCO_CIFAR = 'configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py'
DOGO_R18W05 = 'configs/dogo/dogo_r18-cifar_r18w05-cifar_1xb256-200e_cifar10.py'
# Tiny peers (8-64 channels) for a quick CPU run.
TINY_PEERS = [f'model.{peer}.{key}'
              for peer in ('peer1', 'peer2')
              for key in ('backbone.base_channels=8',
                          'backbone.stem_channels=8', 'neck.in_channels=64')]
# The sections that do work in each method's step (DoGo has no queue).
SPLIT_PARTS = {'seed': ('data', 'teacher', 'student', 'queue'),
               'moco': ('data', 'key_encoder', 'student', 'queue'),
               'dogo': ('data', 'peer1', 'student'),
               'simclrv2_distill': ('data', 'teacher', 'student'),
               'crd': ('data', 'teacher', 'student', 'queue'),
               'esvit': ('data', 'teacher', 'student')}
DISTILL = ('configs/simclrv2/'
           'simclrv2-distill_r18-cifar_to_r18w05-cifar_1xb512-400e_cifar10.py')
TINY_DISTILL = [f'model.{key}' for key in (
    'backbone.base_channels=8', 'backbone.stem_channels=8',
    'head.in_channels=64', 'teacher.backbone.base_channels=8',
    'teacher.backbone.stem_channels=8', 'teacher.neck.in_channels=64',
    'teacher.head.in_channels=64')]


@pytest.fixture(scope='module')
def bench():
    """The two scripts imported as modules (their folder on sys.path, as
    when they run as scripts)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(REPO / 'tools' / 'benchmarks'))
        yield (load_tool('tools/benchmarks/throughput.py'),
               load_tool('tools/benchmarks/data_throughput.py'))


def run_throughput(config, out, *extra):
    result = run_tool('tools/benchmarks/throughput.py', config,
                      '--device', 'cpu', '--batch-size', '4', '--out', out,
                      *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(out.read_text()), result.stdout


def check_report(report, stdout, methods, loss_rtol):
    machine = report['machine']
    for key in ('cpu', 'cpu_cores', 'cpu_cores_usable', 'torch_threads',
                'gpu', 'torch', 'mmengine', 'mmpretrain', 'mmseed'):
        assert key in machine, key
    assert machine['torch'] == torch.__version__
    assert machine['cpu_cores'] >= 1 and machine['gpu'] is None
    settings = report['settings']
    assert settings['device'] == 'cpu' and settings['batch_size'] == 4
    assert settings['image_size'] == [32, 32]  # the CIFAR crop
    assert 'RSS' in settings['memory']  # says which memory it measured

    results = {(r['method'], r['path']): r for r in report['results']}
    assert set(results) == {(m, p) for m in methods
                            for p in ('mmseed', 'plain')}
    for (method, path), r in results.items():
        assert r['images_per_s'] > 0 and r['step_ms'] > 0
        # images/s and step time describe the same timed steps.
        assert math.isclose(r['images_per_s'], 4 * 1e3 / r['step_ms'],
                            rel_tol=1e-9)
        split = r['split_ms']
        assert set(split) == {*SPLIT_PARTS[method], 'queue', 'other'}
        parts = [split[key] for key in SPLIT_PARTS[method]]
        assert all(part > 0 for part in parts), split
        if 'queue' not in SPLIT_PARTS[method]:
            assert split['queue'] == 0
        # The parts lie inside the iteration: they sum to at most its time.
        assert sum(parts) <= r['split_step_ms'] + 1e-6
        assert split['other'] >= -1e-6
        assert math.isclose(sum(split.values()), r['split_step_ms'])
        assert r['peak_memory_mib'] > 0
        assert math.isfinite(r['loss_step0']) and r['loss_step0'] > 0

    repeats = settings['repeats']
    for method in methods:
        framework, plain = results[method, 'mmseed'], results[method, 'plain']
        assert len(framework['rounds_images_per_s']) == repeats
        assert len(plain['rounds_images_per_s']) == repeats
        rounds = report['ratio_mmseed_over_plain_rounds'][method]
        # Each round's ratio pairs that round's two paths.
        assert rounds == [f / p for f, p in zip(
            framework['rounds_images_per_s'], plain['rounds_images_per_s'])]
        assert report['ratio_mmseed_over_plain'][method] == (
            sorted(rounds)[repeats // 2] if repeats % 2 else
            sum(sorted(rounds)[repeats // 2 - 1:repeats // 2 + 1]) / 2)
        if repeats == 1:
            assert math.isclose(
                report['ratio_mmseed_over_plain'][method],
                framework['images_per_s'] / plain['images_per_s'])
        # Same batch, same weights, same computation: the same step-0 loss.
        assert math.isclose(framework['loss_step0'], plain['loss_step0'],
                            rel_tol=loss_rtol), (framework, plain)

    # One Markdown row per method and path, after the header.
    rows = [line for line in stdout.splitlines() if line.startswith('| ')]
    assert len(rows) == 1 + 2 * len(methods)
    assert rows[0].startswith('| config | method | path |')
    return results


def test_throughput_seed_and_moco(tmp_path):
    report, stdout = run_throughput(
        SEED_R18W05, tmp_path / 'r.json', '--method', 'seed', 'moco',
        '--warmup', '1', '--iters', '1', '--split-iters', '1')
    results = check_report(report, stdout, ('seed', 'moco'), loss_rtol=1e-5)
    assert results['seed', 'mmseed']['driver'].startswith('mmengine Runner')
    ratios = report['seed_step_over_moco_step']
    for path in ('mmseed', 'plain'):
        seed, moco = results['seed', path], results['moco', path]
        assert math.isclose(ratios[path], seed['step_ms'] / moco['step_ms'])
    # The loss is SEED's, not MoCo's: another number on the same batch.
    assert results['seed', 'plain']['loss_step0'] != pytest.approx(
        results['moco', 'plain']['loss_step0'])


def test_throughput_dogo(tmp_path):
    """Both peers, each with its own optimizer: the plain loop's step-0 loss
    (the sum of the peers' losses) is mmseed's."""
    report, stdout = run_throughput(
        DOGO_R18W05, tmp_path / 'r.json', '--method', 'dogo', '--warmup',
        '0', '--iters', '1', '--split-iters', '1', '--cfg-options',
        *TINY_PEERS)
    results = check_report(report, stdout, ('dogo', ), loss_rtol=1e-5)
    assert '| peer1 ms |' in stdout.splitlines()[0]
    assert any(note.startswith('dogo: no target network')
               for note in report['settings']['notes'])


def test_throughput_simclrv2_distill(tmp_path):
    """A classifier's samples (one image each, ClsDataPreprocessor): the
    plain distillation step's step-0 loss is mmseed's."""
    report, stdout = run_throughput(
        DISTILL, tmp_path / 'r.json', '--warmup', '0', '--iters', '1',
        '--split-iters', '1', '--cfg-options', *TINY_DISTILL,
        'optim_wrapper.paramwise_cfg=None')
    check_report(report, stdout, ('simclrv2_distill', ), loss_rtol=1e-5)
    assert report['settings']['methods'] == ['simclrv2_distill']


CRD_KD = 'configs/crd/crd-kd_r18-cifar_to_r18w05-cifar_1xb64-240e_cifar10.py'
TINY_CRD = [f'model.{key}' for key in (
    'backbone.base_channels=8', 'backbone.stem_channels=8',
    'head.in_channels=64', 'student_embed.in_channels=64',
    'teacher.backbone.base_channels=8', 'teacher.backbone.stem_channels=8',
    'teacher.head.in_channels=64', 'teacher_embed.in_channels=64')]


def test_throughput_crd(tmp_path):
    """CRD + KD with CIFAR-sized banks: the step-0 losses agree up to the
    negatives, which each path draws with its own random numbers (K = 16384
    of 50,000 rows: about 1e-4 apart)."""
    report, stdout = run_throughput(
        CRD_KD, tmp_path / 'r.json', '--warmup', '0', '--iters', '1',
        '--split-iters', '1', '--image-size', '32', '--cfg-options',
        *TINY_CRD)
    check_report(report, stdout, ('crd', ), loss_rtol=1e-3)
    assert any('50,000 for CIFAR' in note
               for note in report['settings']['notes'])


def test_throughput_esvit_multi_crop(tmp_path):
    """Global and local crops at the config's sizes (32 and 16 px): without
    drop path (random), both paths' step-0 losses are equal."""
    report, stdout = run_throughput(
        'configs/esvit/esvit_swin-cifar_1xb256-100e_cifar10.py',
        tmp_path / 'r.json', '--warmup', '0', '--iters', '1',
        '--split-iters', '1', '--cfg-options', 'model.head.out_dim=256',
        'model.region_head.out_dim=256', 'optim_wrapper.paramwise_cfg=None',
        'model.backbone.drop_path_rate=0.')
    check_report(report, stdout, ('esvit', ), loss_rtol=1e-6)


def test_crd_banks_get_the_real_training_set_size(bench):
    steps = sys.modules['reference_steps']
    crd = steps.load_method('crd')
    cifar = Config.fromfile(REPO / CRD_KD)
    imagenet = Config.fromfile(REPO / 'configs/crd/'
                               'crd_r34_to_r18_8xb32-100e_in1k.py')
    assert crd.dataset_size(cifar) == 50_000
    assert crd.dataset_size(imagenet) == 1_281_167


def test_throughput_mobilenet_channels_last_repeats(tmp_path):
    report, stdout = run_throughput(
        SEED_MBV3, tmp_path / 'r.json', '--channels-last', '--warmup', '0',
        '--iters', '2', '--split-iters', '1', '--repeats', '2')
    assert report['settings']['channels_last'] is True
    assert report['settings']['repeats'] == 2
    assert 'seed: mmseed/plain per round: ' in stdout
    # The second round ran the plain loop first, on the weights the first
    # round's mmseed path started from: the same step-0 loss in every round.
    losses = [loss for r in report['results']
              for loss in r['rounds_loss_step0']]
    assert len(losses) == 4
    assert losses == pytest.approx([losses[0]] * 4, rel=1e-4)
    # mmseed feeds NCHW inputs to channels-last weights, the plain loop
    # channels-last inputs: other kernels may round differently.
    check_report(report, stdout, ('seed', ), loss_rtol=1e-4)


@pytest.mark.parametrize('extra, message', [
    (['--amp', 'bf16'], '--amp bf16 needs --device cuda'),
    # The model's own config check (mmseed.utils.config_check), run on the
    # timed model with the benchmark's batch.
    (['--method', 'moco', '--batch-size', '3'],
     'a batch size that divides 4096'),
    (['--iters', '0'], '--iters and --repeats must be at least 1'),
    (['--repeats', '0'], '--iters and --repeats must be at least 1'),
    (['--interleave', '--split-iters', '1'],
     '--interleave times whole steps only'),
])
def test_throughput_bad_arguments_are_one_line_errors(tmp_path, extra,
                                                      message):
    result = run_tool('tools/benchmarks/throughput.py', SEED_R18W05,
                      '--device', 'cpu', '--out', tmp_path / 'r.json', *extra)
    assert result.returncode == 2, result.stderr[-2000:]
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and message in last


def test_the_shared_tool_names_no_method():
    """Methods live in reference_steps/: throughput.py names none of them
    (its only 'seed' is the random seed)."""
    source = (REPO / 'tools' / 'benchmarks' / 'throughput.py').read_text()
    source = source.replace('mmseed', '')
    assert not re.search(r'moco|swav|dogo|peer', source, re.IGNORECASE)
    assert 'SEED' not in source
    words = {w.lower() for w in re.findall(r'\w*seed\w*', source, re.I)}
    assert words <= {'seed', 'manual_seed'}, words
    assert not re.search(r"""['"]seed['"]""", source)


def test_a_reference_step_dropped_into_the_folder_is_timed(
        bench, tmp_path, monkeypatch, capsys):
    """A new module in the reference steps' folder is a --method, with no
    edit of throughput.py (here a copy of seed.py in a second folder of the
    package's search path)."""
    throughput, _ = bench
    steps = sys.modules['reference_steps']
    folder = tmp_path / 'steps'
    folder.mkdir()
    (folder / 'seedcopy.py').write_text(
        (REPO / 'tools/benchmarks/reference_steps/seed.py').read_text())
    monkeypatch.setattr(steps, '__path__', [*steps.__path__, str(folder)])
    monkeypatch.setitem(SPLIT_PARTS, 'seedcopy', SPLIT_PARTS['seed'])
    assert steps.available_methods() == ['crd', 'dogo', 'esvit', 'moco',
                                         'seed', 'seedcopy',
                                         'simclrv2_distill']
    out = tmp_path / 'r.json'
    try:
        throughput.main([
            str(REPO / SEED_R18W05), '--method', 'seedcopy', '--device',
            'cpu', '--batch-size', '4', '--warmup', '0', '--iters', '1',
            '--split-iters', '1', '--out', str(out)])
    finally:
        sys.modules.pop('reference_steps.seedcopy', None)
    report = json.loads(out.read_text())
    check_report(report, capsys.readouterr().out, ('seedcopy', ),
                 loss_rtol=1e-5)
    assert report['settings']['methods'] == ['seedcopy']
    assert 'seedcopy: the teacher has random weights (no checkpoint)' in \
        report['settings']['notes']


def test_throughput_interleaved(tmp_path):
    """--interleave: a plain step after each mmseed step, on a copy of the
    model from the same weights: the same step-0 loss, whole steps only."""
    report, stdout = run_throughput(
        SEED_R18W05, tmp_path / 'r.json', '--method', 'seed', '--warmup',
        '1', '--iters', '2', '--repeats', '2', '--interleave')
    assert report['settings']['interleave'] is True
    assert report['settings']['split_iters'] == 0
    results = {r['path']: r for r in report['results']}
    assert results['plain']['driver'] == 'plain PyTorch loop, interleaved'
    for r in results.values():
        assert r['split_ms'] is None and r['images_per_s'] > 0
        assert len(r['rounds_images_per_s']) == 2
    assert math.isclose(results['mmseed']['loss_step0'],
                        results['plain']['loss_step0'], rel_tol=1e-5)
    assert report['ratio_mmseed_over_plain_rounds']['seed'] == [
        f / p for f, p in zip(results['mmseed']['rounds_images_per_s'],
                              results['plain']['rounds_images_per_s'])]


def test_interleaved_steps_are_timed_apart(bench):
    """Each path's time is its own steps': the plain steps run inside the
    mmseed iterations, and their time is taken out of mmseed's."""
    throughput, _ = bench
    now = [0.0]

    class Clock:
        active = False

        def now(self):
            return now[0]

    def make_partner(model):
        assert model is runner.model

        def plain():
            now[0] += 0.25  # a plain step
            return torch.tensor(1.5)
        return plain

    timer = throughput.RunnerTimer(Clock(), warmup=1, iters=2,
                                   install=lambda *args: None,
                                   partner=make_partner)
    runner = types.SimpleNamespace(
        model=types.SimpleNamespace(state_dict=lambda: {'w': torch.ones(2)}),
        optim_wrapper=None)
    timer.before_train(runner)
    for batch_idx in range(3):  # warm-up, then 2 timed steps
        now[0] += 1.0  # an mmseed step
        timer.after_train_iter(runner, batch_idx,
                               outputs={'loss': torch.tensor(2.5)})
    assert timer.elapsed == pytest.approx(2.0)
    assert timer.partner_elapsed == pytest.approx(0.5)
    assert float(timer.loss0) == 2.5 and float(timer.partner_loss0) == 1.5


def test_split_arithmetic(bench):
    throughput, _ = bench
    # Seconds summed over 2 iterations.
    framework = dict(fetch=0.002, preprocess=0.004, target=0.010,
                     queue=0.002, train_step=0.030, iteration=0.040)
    split = throughput._split(framework, 2, framework=True)
    assert split == pytest.approx(dict(
        data=3.0, target=5.0, student=7.0, queue=1.0, other=4.0))
    plain = dict(data=0.004, target=0.010, student=0.020, queue=0.002,
                 iteration=0.037)
    split = throughput._split(plain, 2, framework=False)
    assert split == pytest.approx(dict(
        data=2.0, target=5.0, student=10.0, queue=1.0, other=0.5))
    assert throughput._split(plain, 0, framework=False) is None


def test_config_reading(bench):
    throughput, _ = bench
    assert throughput.crop_size(Config.fromfile(REPO / SEED_IMAGENET)) == (
        224, 224)
    # DoGo's views are MultiViewGroups groups, all at 32 px.
    dogo_cfg = Config.fromfile(REPO / DOGO_R18W05)
    assert throughput.crop_size(dogo_cfg) == (32, 32)
    assert throughput.method_model(dogo_cfg, 'dogo') == dogo_cfg.model
    cfg = Config.fromfile(REPO / SEED_R18W05)
    assert throughput.crop_size(cfg) == (32, 32)
    seed = throughput.method_model(cfg, 'seed')
    assert seed.type == 'SEED' and seed.teacher.checkpoint is None
    moco = throughput.method_model(cfg, 'moco')
    # The student's own MoCo-v2: its backbone, head and queue.
    assert moco.type == 'MoCoV2'
    assert moco.backbone == cfg.model.backbone
    assert moco.neck == cfg.model.neck
    assert moco.queue_len == cfg.model.queue_len == 4096
    assert moco.head.temperature == 0.2
    # A MoCo config is timed as it is; it has no SEED step.
    moco_cfg = Config.fromfile(REPO / MOCO_CIFAR)
    assert throughput.method_model(moco_cfg, 'moco') == moco_cfg.model
    with pytest.raises(ValueError, match='--method seed needs a SEED'):
        throughput.method_model(moco_cfg, 'seed')


def test_optimizers_of_a_config_with_one_per_sub_module(bench):
    """A MultiOptimWrapperConstructor config: the plain loop builds the
    named entry's optimizer, and bf16 makes each entry an AmpOptimWrapper."""
    throughput, _ = bench
    cfg = Config.fromfile(REPO / DOGO_R18W05)
    param = torch.nn.Parameter(torch.zeros(2))
    adam = throughput.plain_optimizer(cfg.optim_wrapper, [param], 'peer2')
    assert isinstance(adam, torch.optim.Adam)
    assert adam.defaults['lr'] == cfg.optim_wrapper.peer2.optimizer.lr
    with pytest.raises(ValueError, match=r'optim_wrapper\.optimizer'):
        throughput.plain_optimizer(cfg.optim_wrapper, [param])
    with pytest.raises(ValueError, match=r'optim_wrapper\.peer3\.optimizer'):
        throughput.plain_optimizer(cfg.optim_wrapper, [param], 'peer3')
    wrappers = throughput.wrapper_configs(cfg.optim_wrapper)
    assert set(wrappers) == {'peer1', 'peer2'}
    assert wrappers['peer1'] is cfg.optim_wrapper.peer1  # edits apply
    single = Config.fromfile(REPO / SEED_R18W05).optim_wrapper
    assert throughput.wrapper_configs(single) == {'': single}


def test_section_clock_unwrap_restores_what_was_there(bench):
    """A wrapper over a patched method gives the patch back; one a hook
    already removed (NonFiniteLossHook undoes its update_params patch after
    training) is left alone."""
    throughput, _ = bench

    class Owner:
        def work(self):
            return 'class'

    owner, patched = Owner(), Owner()
    patched.work = lambda: 'patch'
    clock = throughput.SectionClock(torch.device('cpu'))
    clock.wrap(owner, 'work', 'target')
    clock.wrap(patched, 'work', 'target')
    clock.active = True
    assert owner.work() == 'class' and patched.work() == 'patch'
    assert clock.totals['target'] > 0
    del owner.work  # removed by someone else
    clock.unwrap()
    assert owner.work() == 'class' and 'work' not in vars(owner)
    assert patched.work() == 'patch' and 'work' in vars(patched)


def test_markdown_table(bench):
    throughput, _ = bench
    table = throughput.markdown_table(
        ['a', 'b', 'c'], [[1, 2.34567, None], ['x', 1234.56, 0.5]])
    assert table.splitlines() == [
        '| a | b | c |', '|---|---|---|', '| 1 | 2.35 |  |',
        '| x | 1234.6 | 0.5 |']


def test_data_throughput(cifar_slice, tmp_path):
    out = tmp_path / 'data.json'
    result = run_tool('tools/benchmarks/data_throughput.py', '--config',
                      SEED_R18W05, '--data-root', cifar_slice, '--workers',
                      '0', '1', '--seconds', '1', '--batch-size', '4',
                      '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report['machine']['cpu_cores'] >= 1
    assert report['settings']['data_root'] == str(cifar_slice)
    assert [r['workers'] for r in report['results']] == [0, 1]
    for r in report['results']:
        assert r['images'] > 0 and r['images'] % 4 == 0  # whole batches
        assert r['seconds'] >= 1
        assert r['views'] == r['images']  # SEED: one view per image
        assert r['images_per_s'] == pytest.approx(r['images'] / r['seconds'])
        assert r['images_per_s_per_process'] == pytest.approx(
            r['images_per_s'] / max(1, r['workers']))
    rows = [line for line in result.stdout.splitlines()
            if line.startswith('| ')]
    assert len(rows) == 3


def test_data_throughput_counts_views(bench, cifar_slice):
    _, data = bench
    cfg = Config.fromfile(REPO / MOCO_CIFAR)
    loader = data.loader_config(cfg, str(cifar_slice), batch_size=4)
    assert loader.sampler.type == 'InfiniteSampler'
    result = data.measure(loader, workers=0, seconds=0.5, seed=0)
    assert result['images'] > 0
    assert result['views'] == 2 * result['images']  # MoCo: two views


def test_data_throughput_missing_folder_is_a_one_line_error(tmp_path):
    result = run_tool('tools/benchmarks/data_throughput.py', '--data-root',
                      tmp_path / 'nope', '--out', tmp_path / 'd.json')
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and 'nope' in last
