"""The GPU run (tools/benchmarks/gpu_run.sh), rehearsed on the CPU: every
command it would run, and its report from measured reports and logs."""
import json
import re
import subprocess

from conftest import REPO, load_tool

REFERENCE_STEPS = {p.stem for p in (
    REPO / 'tools/benchmarks/reference_steps').glob('*.py')} - {'__init__'}


def test_dry_run_lists_every_method_and_the_short_run(tmp_path):
    result = subprocess.run(
        ['bash', 'tools/benchmarks/gpu_run.sh', str(tmp_path), '--dry-run'],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    commands = [line.split('$ ', 1)[1] for line in result.stdout.splitlines()
                if '$ ' in line]
    timed = [c for c in commands if 'throughput.py' in c]
    methods = set()
    for command in timed:
        config = command.split()[2]
        assert (REPO / config).is_file(), config
        chosen = re.search(r'--method ((?:\w+ )+)', command).group(1).split()
        assert set(chosen) <= REFERENCE_STEPS, chosen
        methods.update(chosen)
        assert '--device cuda --amp bf16 --channels-last' in command
    # Every method's step is timed; SEED and MoCo-v2 also with the views
    # made on the device; and one 224-px SEED config.
    assert methods == REFERENCE_STEPS
    assert sum('_gpu-aug.py' in c for c in timed) == 2
    assert any('configs/seed/seed_r50_to_r18.py' in c for c in timed)
    study = [c for c in commands if 'cifar10_study.py' in c]
    assert len(study) == 1 and '--preset gpu' in study[0]
    assert (tmp_path / 'gpu_run.log').is_file()


def test_usage_error_is_one_line():
    result = subprocess.run(['bash', 'tools/benchmarks/gpu_run.sh'],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith('error: usage:')
    assert len(result.stderr.strip().splitlines()) == 1


def test_gpu_preset_trains_the_teacher_and_both_students_on_gpu_views(
        tmp_path, capsys):
    study = load_tool('tools/benchmarks/cifar10_study.py')
    study.main(['--preset', 'gpu', '--epochs', '3', '--dry-run',
                '--data-root', str(tmp_path / 'data'), '--work-root',
                str(tmp_path)])
    out = capsys.readouterr().out
    trainings = [line for line in out.splitlines() if 'tools/train.py' in line]
    assert len(trainings) == 3
    assert all('_gpu-aug.py' in line and 'train_cfg.max_epochs=3' in line
               for line in trainings)
    assert out.count('knn.sh') == 3


def test_report_from_measured_json_and_a_study(tmp_path):
    report = load_tool('tools/benchmarks/gpu_report.py')
    measured = REPO / 'docs/benchmarks/cpu_r4_seed_r18-cifar_to_r18w05-cifar.json'
    study = tmp_path / 'study'
    work = study / 'seed_r18w05'
    (work / '20260101_000000/vis_data').mkdir(parents=True)
    (work / 'seed.py').write_text(
        'train_dataloader = dict(batch_size=512)\n')
    (work / '20260101_000000/vis_data/scalars.json').write_text(''.join(
        json.dumps(dict(iter=i, step=i, epoch=1, time=t, loss=1.0)) + '\n'
        for i, t in enumerate((0.05, 0.02, 0.04), 1)))
    (study / 'results.md').write_text('| method |\n| --- |\n| SEED |\n')
    out = tmp_path / 'out'
    report.main(['--out', str(out), '--study', str(study), str(measured),
                 str(tmp_path / 'absent.json')])
    data = json.loads((out / 'gpu_run.json').read_text())
    # 512 images over the median iteration, 0.04 s.
    assert data['training']['seed_r18w05']['images_per_s'] == 512 / 0.04
    assert data['targets']['pipeline_images_per_s'] == 512 / 0.04
    ratio = json.loads(measured.read_text())['ratio_mmseed_over_plain']
    assert data['targets']['seed_cifar_step_ratio'] == ratio['seed']
    assert data['missing'] == [str(tmp_path / 'absent.json')]
    text = (out / 'gpu_run.md').read_text()
    assert '| SEED |' in text and 'Not measured' in text
