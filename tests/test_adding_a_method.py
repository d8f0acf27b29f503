"""A method is added without touching shared code (docs/adding_a_method.md).

The test writes a small method outside the repository, as a user's plugin
would be: a loss on the kit's blocks, an algorithm that wires a student, a
frozen teacher and the loss and checks its own config, and a config that
inherits a repository config. ``tools/train.py`` trains it on real CIFAR-10
images, and the method's own config check turns a bad batch size into one
``error:`` line.
"""
import textwrap

import torch

from conftest import REPO, run_tool
from mmseed.registry import MODELS
from mmseed.utils import register_all_modules

METHOD = '''
"""Relational KD: the student matches the teacher's in-batch similarity
distribution (a toy method for the test)."""
from mmpretrain.models.selfsup.base import BaseSelfSupervisor

from mmseed.errors import ConfigError
from mmseed.models.losses import cosine_similarity_matrix, soft_cross_entropy
from mmseed.registry import MODELS


def relational_loss(student, teacher, temperature):
    return soft_cross_entropy(cosine_similarity_matrix(student, student),
                              cosine_similarity_matrix(teacher, teacher),
                              temperature, temperature)


@MODELS.register_module()
class RelationalKD(BaseSelfSupervisor):

    def __init__(self, backbone, neck, teacher, temperature=0.1,
                 data_preprocessor=None, init_cfg=None):
        super().__init__(backbone=backbone, neck=neck,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.teacher = MODELS.build(teacher)
        self.temperature = temperature

    @classmethod
    def check_config(cls, cfg, key, setting):
        if setting.batch_size is not None and setting.batch_size < 2:
            raise ConfigError(
                f'{key}: RelationalKD compares the images of a batch: set '
                'train_dataloader.batch_size to 2 or more')

    def loss(self, inputs, data_samples):
        teacher = self.teacher(inputs[0])
        student = self.neck(self.backbone(inputs[0]))[0]
        return dict(loss=relational_loss(student, teacher, self.temperature))
'''

CONFIG = '''
_base_ = ['{repo}/configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py']
custom_imports = dict(imports=['relational_kd'], allow_failed_imports=False)
model = dict(
    _delete_=True,
    type='RelationalKD',
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=_base_.model.backbone,
    neck=_base_.model.neck,
    teacher=dict(_base_.model.teacher, checkpoint='{checkpoint}'))
'''


def test_a_plugin_method_trains_and_checks_its_config(cifar_slice, tmp_path):
    (tmp_path / 'relational_kd.py').write_text(METHOD)
    register_all_modules()
    # Narrow networks (8 base channels, 64-d features) keep the run fast.
    teacher = MODELS.build(dict(
        type='FrozenTeacher',
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8,
                      base_channels=8),
        neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=64,
                  out_channels=128, with_avg_pool=True)))
    checkpoint = tmp_path / 'teacher.pth'
    torch.save({'state_dict': teacher.state_dict(),
                'meta': {'mmseed_format': 'teacher'}}, checkpoint)
    config = tmp_path / 'relational_kd_cifar10.py'
    config.write_text(textwrap.dedent(CONFIG.format(repo=REPO,
                                                    checkpoint=checkpoint)))
    options = [
        '--cfg-options', f'train_dataloader.dataset.data_root={cifar_slice}',
        f'val_dataloader.dataset.data_root={cifar_slice}',
        'train_dataloader.num_workers=0', 'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1',
        *[f'model.{net}{key}' for net in ('', 'teacher.') for key in (
            'backbone.stem_channels=8', 'backbone.base_channels=8',
            'neck.in_channels=64', 'neck.hid_channels=64')]
    ]
    env = {'PYTHONPATH': str(tmp_path)}
    result = run_tool('tools/train.py', config, '--work-dir',
                      tmp_path / 'work', *options,
                      'train_dataloader.batch_size=16', env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'loss:' in result.stdout + result.stderr
    assert (tmp_path / 'work' / 'epoch_1.pth').is_file()

    result = run_tool('tools/train.py', config, '--work-dir',
                      tmp_path / 'bad', *options,
                      'train_dataloader.batch_size=1', env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'error: model: RelationalKD compares the images of a batch: set '
        'train_dataloader.batch_size to 2 or more']
