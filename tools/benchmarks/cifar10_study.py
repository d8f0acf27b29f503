"""Every method against its self-supervised baselines on real CIFAR-10.

    python tools/benchmarks/cifar10_study.py --preset quick|cpu|gpu|full

On the same data, batch and epochs, it trains the MoCo-v2 ResNet-18 teacher
and, for each student of the preset (ResNet-18 x0.5, MobileNetV3-L):

* the self-supervised baselines: MoCo-v2 and SimCLR alone;
* SEED and label-free CRD from the teacher;
* DoGo (peer 2 the student, a ResNet-18 peer 1);
* SimCLRv2's pipeline: a ResNet-18 pretrained by SimCLRv2, fine-tuned on
  10% of the labels from its head's first layer, distilled into the student
  on the unlabelled images (the only row that reads labels: 10%);
* EsViT and its view loss alone (DINO) on the reduced CIFAR Swin, which has
  no ResNet/MobileNet counterpart: a row of its own.

Each model is evaluated with kNN (k = 20 / 200), a linear probe and a 10%
fine-tune on the test split (tools/benchmarks/{knn,linear,semi}.sh; what a
preset leaves out shows as ``-``). The table goes to ``<work root>/results.md``
with the minutes each stage took (``stage_times.json``, kept across reruns)
and the loss curves to ``<work root>/plots/``. Each stage prints a progress
line (stage, elapsed, estimated time left); a finished stage is skipped on a
rerun and an interrupted run resumes from its last checkpoint (a third of
its epochs at most are lost). ``--dry-run`` prints the commands;
``--students`` and ``--methods`` keep only some rows of the preset (the
teacher always trains).

The stages reuse the method pipelines' own pieces (``cifar10_seed_vs_moco``,
``cifar10_dogo_vs_simclr``, ``cifar10_simclrv2``, ``cifar10_esvit``), with
each method's learning-rate rule for the batch. The presets:

* ``quick`` (``tools/quickstart.sh``): 300 images per class, batch 64,
  2 epochs; the teacher, then MobileNetV3-L by SEED and by MoCo-v2, both at
  SGD lr 0.06, kNN of all three; it ends with the line "SEED student vs
  MoCo-v2 student". Measured times and numbers: docs/results.md, "The
  quickstart".
* ``cpu`` (about 2 hours of the 2-core machine): 300 images per class,
  batch 64, the teacher 4 epochs and every other model 3, the queues 1,024
  and CRD's negatives 2,048 (the data is 3,000 images), 3-epoch probe and
  fine-tune; every method on ResNet-18 x0.5, SEED and MoCo-v2 on
  MobileNetV3-L too; EsViT and DINO with cifar10_esvit.py's cpu settings
  (AdamW lr 5e-4, teacher temperature 0.04). The method pipelines' own
  cpu presets train longer on more images (docs/results.md).
* ``gpu`` (``tools/benchmarks/gpu_run.sh``): all 50,000 images with the
  views made on the GPU (the ``*_gpu-aug.py`` configs), batch 512, the
  teacher, SEED and MoCo-v2 students (ResNet-18 x0.5), kNN; epochs from
  ``--epochs`` (default 10).
* ``full``: the configs as written (all of CIFAR-10, their schedules).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools' / 'benchmarks'))

import cifar10_dogo_vs_simclr as dogo  # noqa: E402
import cifar10_esvit as esvit  # noqa: E402
import cifar10_simclrv2 as simclrv2  # noqa: E402
from cifar10_seed_vs_moco import (STUDENTS, TEACHER, Pipeline,  # noqa: E402
                                  eval_metrics_or_none, final_checkpoint, say)

METHODS = ('mocov2', 'simclr', 'seed', 'crd', 'dogo', 'simclrv2', 'esvit')
SEMI = 'configs/benchmarks/semi_supervised/'
SEMI_10PCT = dict(
    r18=SEMI + 'resnet18-cifar_1xb256-ft-coslr-30e_cifar10-10pct.py',
    r18w05=SEMI + 'resnet18w05-cifar_1xb256-ft-coslr-30e_cifar10-10pct.py',
    mbv3=SEMI + 'mobilenet-v3-large_1xb256-ft-coslr-30e_cifar10-10pct.py')
# Configs of the methods beyond SEED and MoCo-v2, by student (the students
# they have configs for).
CONFIGS = dict(
    simclr=dict(r18w05=dogo.SIMCLR),
    crd=dict(r18w05='configs/crd/crd_r18-cifar-mocov2_to_r18w05-cifar_'
             'cifar10.py'),
    dogo=dict(r18w05=dogo.DOGO),
    simclrv2=dict(r18w05=simclrv2.DISTILL))
GPU_AUG = {  # the configs whose views are made on the GPU
    TEACHER['config']: 'configs/mocov2/mocov2_r18-cifar_1xb256-200e_'
    'cifar10_gpu-aug.py',
    STUDENTS['r18w05']['moco']: 'configs/mocov2/mocov2_r18w05-cifar_1xb256-'
    '200e_cifar10_gpu-aug.py',
    STUDENTS['r18w05']['seed']: 'configs/seed/seed_r18-cifar_to_r18w05-'
    'cifar_cifar10_gpu-aug.py',
}


class Preset(NamedTuple):
    per_class: Optional[int]  # images per class; None: all of CIFAR-10
    batch: Optional[int]  # None: the configs' own
    teacher_epochs: Optional[int]  # None: the configs' own
    epochs: Optional[int]  # every other model; None: the configs' own
    students: Tuple[str, ...]
    methods: Tuple[str, ...]
    linear_epochs: Optional[int]  # 0: no linear probe; None: the config's
    finetune_epochs: Optional[int]  # 0: no 10% fine-tune; None: config's
    queue_len: Optional[int]  # MoCo-v2 / SEED queue; None: the configs'
    num_negatives: Optional[int] = None  # CRD's K; None: the config's
    gpu_aug: bool = False  # the *_gpu-aug.py configs where there are
    # The cifar10_esvit.py preset whose EsViT lr and teacher temperature
    # the Swin runs take ('full': the configs' rules; 'cpu': 5e-4 and 0.04,
    # which a few hundred steps need).
    esvit_rules: str = 'full'
    # SGD lr of the SEED and MoCo-v2 students (the same for both); None:
    # the configs' rule, 0.03 x batch / 256.
    student_lr: Optional[float] = None


PRESETS = {
    # The quickstart: SEED's MobileNetV3-L student against its MoCo-v2 twin.
    # Both students take lr 0.06 (8x the configs' rule at batch 64): SEED
    # leads by 1.7 kNN points at the rule's 0.0075, 2.1 at 0.03 and 4.5 at
    # 0.06 (docs/results.md, "The quickstart").
    'quick': Preset(300, 64, 2, 2, ('mbv3', ), ('mocov2', 'seed'), 0, 0,
                    1024, student_lr=0.06),
    # Sized from the method pipelines' per-sample costs; measured 2 h 4 min
    # on the 2-core machine (DoGo 17 min, SimCLRv2's pretraining 14).
    'cpu': Preset(300, 64, 4, 3, ('r18w05', 'mbv3'), METHODS, 3, 3, 1024,
                  2048, esvit_rules='cpu'),
    'gpu': Preset(None, 512, 10, 10, ('r18w05', ), ('mocov2', 'seed'), 0, 0,
                  None, gpu_aug=True),
    'full': Preset(None, None, None, None, ('r18w05', 'mbv3'), METHODS, None,
                   None, None),
}


class Model(NamedTuple):
    """A trained network to evaluate: its row and what evaluates it."""
    method: str
    architecture: str
    labels: str
    work: Path  # its training work dir
    checkpoint: Path  # the backbone to evaluate (student, peer, teacher)
    evals: Dict[str, str]  # kind (knn / linear / semi) -> config


class Stage(NamedTuple):
    title: str
    run: Callable[[], object]
    training: bool = True  # False: an evaluation (timed apart: far shorter)


class Study:
    """The preset's trainings, then their evaluations, as stages planned
    up front and run in order with a progress line each."""

    skipped_under = 5.0  # seconds: a stage this quick was done before

    def __init__(self, preset: Preset, pipe: Pipeline) -> None:
        self.preset, self.pipe, self.root = preset, pipe, pipe.root
        self.models: List[Model] = []
        self.stages: List[Stage] = []
        work = self.root / 'teacher_r18-cifar'
        self.teacher = final_checkpoint(TEACHER['config'], work,
                                        preset.teacher_epochs)
        self.plan()

    def config(self, config: str) -> str:
        return GPU_AUG.get(config, config) if self.preset.gpu_aug else config

    def evals(self, key: str) -> Dict[str, str]:
        configs = TEACHER if key == 'r18' else STUDENTS[key]
        return dict(knn=configs['knn'], linear=configs['linear'],
                    semi=SEMI_10PCT[key])

    # -- planning -----------------------------------------------------------
    def plan(self) -> None:
        preset, pipe = self.preset, self.pipe
        work = self.teacher.parent
        self.train('teacher: MoCo-v2 ResNet-18 (CIFAR stem)', lambda: (
            pipe.pretrain('teacher: MoCo-v2 ResNet-18 (CIFAR stem)',
                          self.config(TEACHER['config']), work,
                          preset.teacher_epochs)),
            Model('MoCo-v2 (the teacher)', 'ResNet-18', 'none', work,
                  self.teacher, self.evals('r18')))
        for key in preset.students:
            for method in preset.methods:
                if method == 'esvit':
                    continue
                if method in CONFIGS and key not in CONFIGS[method]:
                    say(f'{method}: no config for {STUDENTS[key]["name"]}, '
                        'left out')
                    continue
                getattr(self, f'plan_{method}')(key)
        if 'esvit' in preset.methods:
            self.plan_esvit()
        for model in self.models:
            for kind, config in model.evals.items():
                epochs = dict(knn=None, linear=preset.linear_epochs,
                              semi=preset.finetune_epochs)[kind]
                if epochs != 0:
                    self.stages.append(Stage(
                        f'{kind} of {model.method}, {model.architecture}',
                        self._evaluation(model, kind, config, epochs),
                        training=False))

    def _evaluation(self, model, kind, config, epochs) -> Callable:
        return lambda: self.pipe.evaluate(kind, self.tag(model), config,
                                          model.checkpoint, epochs)

    def train(self, title: str, run: Callable, model: Model) -> None:
        self.stages.append(Stage(title, run))
        self.models.append(model)

    def plan_mocov2(self, key: str) -> None:
        self._moco_or_seed('mocov2', 'MoCo-v2', key, [])

    def plan_seed(self, key: str) -> None:
        self._moco_or_seed('seed', 'SEED', key,
                           [f'model.teacher.checkpoint={self.teacher}'])

    def _moco_or_seed(self, method, label, key, options) -> None:
        if self.preset.student_lr:
            options = options + [
                f'optim_wrapper.optimizer.lr={self.preset.student_lr:g}']
        student = STUDENTS[key]
        work = self.root / f'{method}_{key}'
        config = self.config(student['moco' if method == 'mocov2' else
                                     'seed'])
        title = f'{student["name"]} student: {label}'
        self.train(title, lambda: self.pipe.pretrain(
            title, config, work, self.preset.epochs, options),
            Model(label, student['name'], 'none', work,
                  final_checkpoint(config, work, self.preset.epochs),
                  self.evals(key)))

    def plan_simclr(self, key: str) -> None:
        config, work = CONFIGS['simclr'][key], self.root / f'simclr_{key}'
        title = f'SimCLR alone: {STUDENTS[key]["name"]}'
        self.train(title, lambda: dogo.train(
            self.pipe, title, config, work, self.preset.epochs),
            Model('SimCLR', STUDENTS[key]['name'], 'none', work,
                  final_checkpoint(config, work, self.preset.epochs),
                  self.evals(key)))

    def plan_dogo(self, key: str) -> None:
        config, work = CONFIGS['dogo'][key], self.root / f'dogo_{key}'
        title = f'DoGo: ResNet-18 <-> {STUDENTS[key]["name"]}'

        def run():
            dogo.export(self.pipe, dogo.train(
                self.pipe, title, config, work, self.preset.epochs), 'peer2')

        final = final_checkpoint(config, work, self.preset.epochs)
        self.train(title, run, Model(
            'DoGo (peer 2)', STUDENTS[key]['name'], 'none', work,
            dogo.exported(final, 'peer2'), self.evals(key)))

    def plan_crd(self, key: str) -> None:
        config, work = CONFIGS['crd'][key], self.root / f'crd_{key}'
        # SGD lr 0.03 per 256 images, SEED's rule (linear in the batch).
        options = [f'model.teacher.checkpoint={self.teacher}'] + (
            simclrv2.batch_options(config, self.preset.batch, 'linear'))
        if self.preset.num_negatives:
            options.append(f'model.num_negatives={self.preset.num_negatives}')
        step = simclrv2.Step(f'CRD (label-free): {STUDENTS[key]["name"]}',
                             config, work, self.preset.epochs, options)
        self.train(step.name, lambda: simclrv2.run_step(self.pipe, step),
                   Model('CRD (label-free)', STUDENTS[key]['name'], 'none',
                         work, final_checkpoint(config, work, step.epochs),
                         self.evals(key)))

    def plan_simclrv2(self, key: str) -> None:
        """Pretrain, fine-tune on 10%, distil: cifar10_simclrv2.py's steps
        at the configs' widths, each a stage."""
        preset, pipe, epochs = self.preset, self.pipe, self.preset.epochs
        pretrain = simclrv2.Step(
            'SimCLRv2 pretraining: ResNet-18', simclrv2.PRETRAIN,
            self.root / 'simclrv2_pretrain', epochs,
            simclrv2.batch_options(simclrv2.PRETRAIN, preset.batch, 'linear'))
        pretrained = final_checkpoint(pretrain.config, pretrain.work, epochs)
        config = simclrv2.FINETUNE[10]
        finetune = simclrv2.Step(
            'SimCLRv2 fine-tune on 10% of the labels', config,
            self.root / 'simclrv2_finetune_10pct', epochs,
            [f'model.init_cfg.checkpoint={pretrained}'] +
            simclrv2.batch_options(config, preset.batch, 'sqrt'))
        teacher = final_checkpoint(config, finetune.work, epochs)
        config = CONFIGS['simclrv2'][key]
        distill = simclrv2.Step(
            f'SimCLRv2 distillation: {STUDENTS[key]["name"]}', config,
            self.root / f'simclrv2_distill_{key}', epochs,
            [f'model.teacher.checkpoint={teacher}'] +
            simclrv2.batch_options(config, preset.batch, 'linear'))

        def run_finetune():
            simclrv2.draw_subsets(pipe)
            simclrv2.run_step(pipe, finetune)

        self.stages.append(Stage(pretrain.name,
                                 lambda: simclrv2.run_step(pipe, pretrain)))
        self.stages.append(Stage(finetune.name, run_finetune))
        self.train(distill.name, lambda: simclrv2.run_step(pipe, distill),
                   Model('SimCLRv2 (distilled)', STUDENTS[key]['name'],
                         '10% (its teacher)', distill.work,
                         final_checkpoint(config, distill.work, epochs),
                         self.evals(key)))

    def plan_esvit(self) -> None:
        rules = esvit.PRESETS[self.preset.esvit_rules]
        for name, (tag, config) in esvit.RUNS.items():
            step = simclrv2.Step(f'{name}: reduced CIFAR Swin', config,
                                 self.root / tag, self.preset.epochs,
                                 esvit.train_options(
                                     config, self.preset.batch,
                                     self.preset.epochs, rules.lr,
                                     rules.teacher_temp))
            final = final_checkpoint(config, step.work, step.epochs)
            self.train(step.name, self._esvit_run(step), Model(
                name, 'Swin (CIFAR)', 'none', step.work,
                dogo.exported(final, 'teacher'), dict(esvit.EVAL)))

    def _esvit_run(self, step) -> Callable:
        return lambda: dogo.export(
            self.pipe, simclrv2.run_step(self.pipe, step), 'teacher')

    # -- running and reporting ----------------------------------------------
    def run(self) -> None:
        """Each stage after a progress line: its number, the time elapsed
        and the time left (see :func:`time_left`)."""
        start = time.monotonic()
        took: Dict[bool, List[float]] = {True: [], False: []}
        times = self.stage_times()
        for i, stage in enumerate(self.stages):
            elapsed = time.monotonic() - start
            say(f'[stage {i + 1}/{len(self.stages)} | {minutes(elapsed)} '
                f'elapsed{time_left(self.stages[i:], took)}] {stage.title}')
            began = time.monotonic()
            stage.run()
            seconds = time.monotonic() - began
            if seconds > self.skipped_under:  # it ran, not done before
                took[stage.training].append(seconds)
                times[stage.title] = round(seconds, 1)
                if not self.pipe.dry_run:
                    self.times_file.write_text(json.dumps(times, indent=1))

    @property
    def times_file(self) -> Path:
        return self.root / 'stage_times.json'

    def stage_times(self) -> Dict[str, float]:
        """Seconds per stage that ran, kept across reruns (a stage skipped
        as done keeps the time it took when it ran)."""
        if self.pipe.dry_run or not self.times_file.is_file():
            return {}
        return json.loads(self.times_file.read_text())

    def times_table(self) -> str:
        """Minutes per stage and in all ('' when none was timed)."""
        times = self.stage_times()
        timed = [stage.title for stage in self.stages if stage.title in times]
        if not timed:
            return ''
        lines = ['| stage | minutes |', '| --- | --- |']
        lines += [f'| {title} | {times[title] / 60:.1f} |' for title in timed]
        total = sum(times[title] for title in timed) / 60
        every = ('all' if len(timed) == len(self.stages) else
                 f'the {len(timed)} of {len(self.stages)} stages timed')
        return '\n'.join(lines + [f'| {every} | {total:.1f} |']) + '\n'

    def tag(self, model: Model) -> str:
        return f'{model.work.name}_{model.checkpoint.stem}'

    def metric(self, model: Model, kind: str, key: str) -> str:
        metrics = (None if self.pipe.dry_run else eval_metrics_or_none(
            self.root / kind / self.tag(model), kind))
        value = (metrics or {}).get(key)
        return '-' if value is None else f'{value:.2f}'

    def knn(self, model: Model) -> Tuple[str, str]:
        return tuple(self.metric(model, 'knn', f'knn/top1_k{k}')
                     for k in (20, 200))

    def table(self) -> str:
        header = ['method', 'network', 'labels', 'kNN top-1 k=20 (%)',
                  'kNN top-1 k=200 (%)', 'linear top-1 (%)',
                  '10% fine-tune top-1 (%)', 'work dir']
        lines = ['| ' + ' | '.join(header) + ' |',
                 '|' + ' --- |' * len(header)]
        for model in self.models:
            cells = [model.method, model.architecture, model.labels,
                     *self.knn(model),
                     self.metric(model, 'linear', 'accuracy/top1'),
                     self.metric(model, 'semi', 'accuracy/top1'),
                     str(model.work.relative_to(self.root))]
            lines.append('| ' + ' | '.join(cells) + ' |')
        return '\n'.join(lines) + '\n'


def time_left(stages: List[Stage], took: Dict[bool, List[float]]) -> str:
    """``', about M:SS left'`` for the stages still to run: each training
    at the mean of the trainings run so far, each evaluation at theirs (a
    kind not run yet is named as not timed, not guessed)."""
    seconds, untimed = 0.0, []
    for training, kind in ((True, 'trainings'), (False, 'evaluations')):
        count = sum(stage.training == training for stage in stages)
        if count and took[training]:
            seconds += count * statistics.fmean(took[training])
        elif count:
            untimed.append(f'{count} {kind if count > 1 else kind[:-1]}')
    if not seconds:
        return ''
    return (f', about {minutes(seconds)} left' +
            (f' + {" and ".join(untimed)} not timed yet' if untimed else ''))


def minutes(seconds: float) -> str:
    """``M:SS``, or ``H:MM:SS`` from an hour."""
    hours, rest = divmod(int(seconds), 3600)
    mins, secs = divmod(rest, 60)
    return f'{hours}:{mins:02d}:{secs:02d}' if hours else f'{mins}:{secs:02d}'


def main(argv=None) -> None:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument('--epochs', type=int,
                         help="every model's epochs, the teacher's too "
                         '(gpu_run.sh sizes the gpu preset with it)')
    options.add_argument('--students', nargs='+', choices=sorted(STUDENTS),
                         help="only these students' rows of the preset (the "
                         'teacher is always trained), e.g. to rerun them '
                         'after a config changed')
    options.add_argument('--methods', nargs='+', choices=METHODS,
                         help="only these methods' rows of the preset")
    preset, root, pipe, args = simclrv2.start('study', __doc__, PRESETS,
                                              argv, parents=[options])
    if args.epochs:
        preset = preset._replace(teacher_epochs=args.epochs,
                                 epochs=args.epochs)
    if args.students:
        preset = preset._replace(students=tuple(args.students))
    if args.methods:
        preset = preset._replace(methods=tuple(args.methods))
    pipe.preset = preset
    study = Study(preset, pipe)
    study.run()
    if pipe.dry_run:
        return
    text, times = study.table(), study.times_table()
    (root / 'results.md').write_text(text + (
        f'\nTime per stage ({study.times_file.name}):\n\n{times}'
        if times else ''))
    plots = root / 'plots'
    trained = list(dict.fromkeys(m.work for m in study.models))
    subprocess.run([sys.executable, 'tools/analysis_tools/plot_curves.py',
                    *map(str, trained), '--keys', 'loss', '--labels',
                    *(p.name for p in trained), '--out-dir', str(plots)],
                   cwd=REPO, check=True, capture_output=True)
    say(f'results ({root / "results.md"}):\n\n{text}')
    by = {(m.method, m.architecture): m for m in study.models}
    for key in preset.students:
        name = STUDENTS[key]['name']
        seed, moco = by.get(('SEED', name)), by.get(('MoCo-v2', name))
        if seed and moco:
            say(f'SEED student vs MoCo-v2 student ({name}): kNN top-1 '
                f'{study.knn(seed)[0]} vs {study.knn(moco)[0]} (k=20)')
    say(f'loss curves: {plots / "loss.png"}')


if __name__ == '__main__':
    main()
