"""The report of ``tools/benchmarks/gpu_run.sh``: one Markdown file and one
JSON file from the throughput reports and the CIFAR-10 study run.

    python tools/benchmarks/gpu_report.py --out OUT_DIR --study STUDY_ROOT \
        THROUGHPUT_JSON [THROUGHPUT_JSON ...]

``OUT_DIR/gpu_run.md`` holds the machine, one throughput row per config,
method and path (images/s, the step split, peak memory, mmseed / plain),
the study's results table with each training's images/s (the batch over the
median logged iteration time, data and augmentation included) and the
speed targets of issue 17 met or not. ``OUT_DIR/gpu_run.json`` holds the
same numbers. Missing inputs (a part that failed or was not run) are named
in the report, not fatal.
"""
import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import List, Optional

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from mmseed.utils.work_dir_logs import LogError, read_curves  # noqa: E402

# Issue 17's GPU speed targets.
STEP_TARGET = 1.0  # SEED CIFAR-10 student step, mmseed / plain
PIPELINE_TARGET = 15000  # images/s, the whole pipeline on an H100-class GPU
SEED_CIFAR = 'seed_r18-cifar_to_r18w05-cifar_cifar10'


def throughput_rows(reports: List[dict]) -> List[dict]:
    rows = []
    for report in reports:
        config = Path(report['settings']['config']).stem
        ratios = report.get('ratio_mmseed_over_plain', {})
        for result in report['results']:
            rows.append(dict(
                config=config, method=result['method'], path=result['path'],
                images_per_s=result['images_per_s'],
                split_ms=result.get('split_ms') or {},
                peak_memory_mib=result.get('peak_memory_mib'),
                ratio=ratios.get(result['method'])
                if result['path'] == 'mmseed' else None))
    return rows


def training_speed(work: Path) -> Optional[dict]:
    """Images/s of one training run: batch / median iteration time."""
    try:
        train = read_curves(str(work)).train
    except LogError:
        return None
    times = [r['time'] for r in train if 'time' in r]
    dumps = sorted(work.glob('*.py'))
    if not times or not dumps:
        return None
    from mmengine.config import Config
    batch = Config.fromfile(dumps[0]).train_dataloader.batch_size
    median = statistics.median(times)
    return dict(batch=batch, median_iter_s=median,
                images_per_s=batch / median)


def fmt(value, digits=1) -> str:
    return '—' if value is None else f'{value:,.{digits}f}'


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('reports', nargs='*', type=Path)
    parser.add_argument('--out', type=Path, required=True)
    parser.add_argument('--study', type=Path, required=True)
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.reports if not p.is_file()]
    reports = [json.loads(p.read_text()) for p in args.reports if p.is_file()]
    rows = throughput_rows(reports)
    machine = reports[0]['machine'] if reports else {}

    lines = ['# GPU run', '',
             f"Machine: {machine.get('gpu') or machine.get('cpu', '?')}, "
             f"torch {machine.get('torch', '?')}, CUDA "
             f"{machine.get('cuda', '?')}.", '',
             '## Throughput: mmseed against its plain reference step', '',
             '| config | method | path | images/s | mmseed / plain | '
             'step split (ms) | peak MiB |', '|' + ' --- |' * 7]
    for r in rows:
        split = ' / '.join(f'{k} {v:.2f}' for k, v in r['split_ms'].items())
        lines.append('| ' + ' | '.join(
            [r['config'], r['method'], r['path'], fmt(r['images_per_s']),
             fmt(r['ratio'], 3), split or '—',
             fmt(r['peak_memory_mib'], 0)]) + ' |')
    if missing:
        lines += ['', 'Not measured (failed or not run): ' +
                  ', '.join(missing)]

    study = {}
    results = args.study / 'results.md'
    lines += ['', '## CIFAR-10, all 50,000 images, views made on the GPU', '']
    if results.is_file():
        lines.append(results.read_text())
        for work in sorted(p for p in args.study.iterdir() if p.is_dir()):
            speed = training_speed(work)
            if speed:
                study[work.name] = speed
        lines += ['| training | batch | median iteration (s) | images/s |',
                  '| --- | --- | --- | --- |']
        lines += [f"| {name} | {s['batch']} | {s['median_iter_s']:.4f} | "
                  f"{fmt(s['images_per_s'], 0)} |"
                  for name, s in study.items()]
    else:
        lines.append(f'Not run or failed: no {results}.')

    seed = [r for r in rows if r['config'] == SEED_CIFAR and
            r['method'] == 'seed' and r['ratio'] is not None]
    fastest = max((s['images_per_s'] for s in study.values()), default=None)
    targets = dict(
        seed_cifar_step_ratio=seed[0]['ratio'] if seed else None,
        pipeline_images_per_s=fastest)
    lines += ['', '## Targets', '',
              f'- SEED CIFAR-10 student step, mmseed / plain: '
              f"{fmt(targets['seed_cifar_step_ratio'], 3)} (target "
              f'>= {STEP_TARGET})',
              f'- whole pipeline, augmentation included, fastest training: '
              f'{fmt(fastest, 0)} images/s (target >= {PIPELINE_TARGET:,})']
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / 'gpu_run.md').write_text('\n'.join(lines) + '\n')
    (args.out / 'gpu_run.json').write_text(json.dumps(dict(
        machine=machine, throughput=rows, training=study, targets=targets,
        missing=missing, study_table=results.read_text()
        if results.is_file() else None), indent=1))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
