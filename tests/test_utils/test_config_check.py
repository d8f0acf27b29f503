"""check_config and explain_build_error turn config mistakes into one line."""
import glob

import pytest
from mmengine.config import Config

from conftest import REPO
from mmseed.datasets import AnnotationFileError
from mmseed.registry import MODELS
from mmseed.utils import register_all_modules
from mmseed.utils.config_check import (ConfigError, check_config,
                                       check_model_config,
                                       explain_build_error)

register_all_modules()

NECK = dict(type='MoCoV2Neck', in_channels=64, hid_channels=64,
            out_channels=16, with_avg_pool=True)
BACKBONE = dict(type='ResNet_CIFAR', depth=18, stem_channels=8,
                base_channels=8)


@pytest.fixture
def data_root(tmp_path):
    """A data root with train/cls/{a,b}.jpg."""
    folder = tmp_path / 'data' / 'train' / 'cls'
    folder.mkdir(parents=True)
    for name in ('a.jpg', 'b.jpg'):
        (folder / name).write_bytes(b'x')
    return tmp_path / 'data'


def config(data_root, model=None, batch_size=16, launcher='none', **dataset):
    teacher_ckpt = data_root / 'train' / 'cls' / 'a.jpg'  # exists
    model = model or dict(
        type='SEED', queue_len=64, feat_dim=16, backbone=BACKBONE,
        neck=dict(NECK),
        teacher=dict(type='FrozenTeacher', backbone=BACKBONE,
                     neck=dict(NECK), checkpoint=str(teacher_ckpt)))
    return Config(dict(
        model=model, launcher=launcher,
        train_dataloader=dict(
            batch_size=batch_size,
            dataset=dict(type='CustomDataset', data_root=str(data_root),
                         data_prefix='train', **dataset))))


def test_a_good_config_passes(data_root):
    check_config(config(data_root))


@pytest.mark.parametrize('world, ok', [(1, True), (4, True), (5, False)])
def test_seed_queue_must_hold_the_global_batch(world, ok, data_root,
                                               monkeypatch):
    monkeypatch.setenv('WORLD_SIZE', str(world))
    cfg = config(data_root, launcher='pytorch')
    if ok:
        check_config(cfg)
        return
    with pytest.raises(ConfigError) as err:
        check_config(cfg)
    assert str(err.value) == (
        'model.queue_len=64 is smaller than the global batch 80 = '
        'train_dataloader.batch_size 16 x 5 process(es): each step enqueues '
        'the whole global batch, so set model.queue_len to at least 80 or '
        'use a smaller batch')


def test_slurm_world_size_and_no_launcher(data_root, monkeypatch):
    monkeypatch.setenv('SLURM_NTASKS', '8')
    with pytest.raises(ConfigError, match='global batch 128 = .* x 8 proc'):
        check_config(config(data_root, launcher='slurm'))
    check_config(config(data_root, launcher='none'))  # one process


def test_moco_queue_must_be_a_multiple_of_the_global_batch(data_root):
    moco = dict(type='MoCo', queue_len=4096, feat_dim=16, backbone=BACKBONE,
                neck=NECK, head=dict(type='ContrastiveHead',
                                     loss=dict(type='CrossEntropyLoss')))
    check_config(config(data_root, model=moco, batch_size=256))
    with pytest.raises(ConfigError) as err:
        check_config(config(data_root, model=moco, batch_size=48))
    assert str(err.value).startswith(
        'MoCo needs model.queue_len=4096 to be a multiple of the global '
        'batch 48 = train_dataloader.batch_size 48 x 1 process(es): set '
        'model.queue_len=4128')
    # Without queue_len in the config, MoCo's default (65536) is checked.
    del moco['queue_len']
    with pytest.raises(ConfigError, match='model.queue_len=65536'):
        check_config(config(data_root, model=moco, batch_size=48))


@pytest.mark.parametrize('student, teacher, feat_dim', [
    (16, 32, 16), (32, 32, 16), (16, 16, 32)])
def test_seed_embedding_widths_must_agree(student, teacher, feat_dim,
                                          data_root):
    cfg = config(data_root)
    cfg.model.neck.out_channels = student
    cfg.model.teacher.neck.out_channels = teacher
    cfg.model.feat_dim = feat_dim
    with pytest.raises(ConfigError) as err:
        check_config(cfg)
    assert str(err.value).startswith(
        'SEED compares student and teacher embeddings of one width, but the '
        f'config gives student (model.neck.out_channels) {student}, teacher '
        f'(model.teacher.neck.out_channels) {teacher} and model.feat_dim '
        f'{feat_dim}: set model.neck.out_channels, '
        'model.teacher.neck.out_channels and model.feat_dim to one value')


def test_teacher_without_neck_is_left_to_the_first_iteration(data_root):
    cfg = config(data_root)
    cfg.model.teacher.neck = None  # width = the backbone's, unknown here
    check_config(cfg)


def test_ann_file_with_missing_images(data_root):
    meta = data_root / 'meta'
    meta.mkdir()
    (meta / 'train.txt').write_text('cls/a.jpg 0\ncls/b.jpg 1\ncls/c.jpg 1\n')
    cfg = config(data_root, ann_file='meta/train.txt')
    with pytest.raises(AnnotationFileError) as err:
        check_config(cfg)
    assert str(err.value) == (
        f'annotation file {meta / "train.txt"} '
        '(train_dataloader.dataset.ann_file) names 1 of 3 images that do not '
        f"exist under '{data_root / 'train'}', e.g. 'cls/c.jpg'; fix the "
        'list, or point train_dataloader.dataset.data_root / data_prefix at '
        'the image folder')
    # ImageNet reads the same format; the check applies to it too.
    cfg.train_dataloader.dataset.type = 'ImageNet'
    with pytest.raises(AnnotationFileError, match='names 1 of 3 images'):
        check_config(cfg)
    (meta / 'train.txt').write_text('cls/a.jpg 0\ncls/b.jpg 1\n')
    check_config(cfg)


def test_missing_ann_file(data_root):
    cfg = config(data_root, ann_file='meta/none.txt')
    with pytest.raises(AnnotationFileError) as err:
        check_config(cfg)
    assert 'annotation file not found' in str(err.value)
    assert '--cfg-options train_dataloader.dataset.ann_file=PATH' in \
        str(err.value)


@pytest.mark.parametrize('path, value, expected', [
    ('type', 'SEDE', "unknown type 'SEDE' in model.type; did you mean "
     "'SEED'?"),
    ('loss', dict(type='SEEDLos'), "unknown type 'SEEDLos' in "
     "model.loss.type; did you mean 'SEEDLoss'?"),
    ('teacher.type', 'FrozenTeachr', "unknown type 'FrozenTeachr' in "
     "model.teacher.type; did you mean 'FrozenTeacher'?"),
    ('teacher.backbone.type', 'ResNet_CIFRA', "unknown type 'ResNet_CIFRA' "
     "in model.teacher.backbone.type; did you mean 'ResNet_CIFAR'?"),
])
def test_misspelled_model_types(path, value, expected, data_root):
    cfg = config(data_root)
    node = cfg.model
    *parents, last = path.split('.')
    for key in parents:
        node = node[key]
    node[last] = value
    with pytest.raises(ConfigError) as err:
        check_config(cfg)
    assert str(err.value) == expected


def test_types_of_other_registries_and_scopes_pass(data_root):
    cfg = config(data_root)
    cfg.model.init_cfg = dict(type='Pretrained', checkpoint='x.pth')
    cfg.model.neck.norm_cfg = dict(type='BN1d')
    cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=True)
    cfg.model.teacher.neck.type = 'mmselfsup.MoCoV2Neck'  # scoped
    from mmseed.utils import config_check
    config_check._check_model_types(cfg)
    cfg.model.type = 'NotAnMMSeedModel'
    cfg.default_scope = 'mmselfsup'  # another scope's registries
    config_check._check_model_types(cfg)


@pytest.mark.parametrize('path', sorted(
    p for p in glob.glob(str(REPO / 'configs' / '**' / '*.py'),
                         recursive=True) if '_base_' not in p))
def test_repository_configs_pass_the_model_checks(path, data_root):
    cfg = Config.fromfile(path)
    if 'model' not in cfg or 'train_dataloader' not in cfg:
        return
    # Checkpoint files are data, not model settings: stand in an existing
    # file for any the config names.
    teacher = cfg.model.get('teacher') or {}
    if teacher.get('checkpoint'):
        teacher.checkpoint = str(data_root / 'train' / 'cls' / 'a.jpg')
    check_model_config(cfg)


@pytest.mark.parametrize('module, key, expected', [
    ('model', 'queue_length', "unknown config key 'queue_length' for SEED; "
     "did you mean 'queue_len'?"),
    ('teacher', 'chekpoint', "unknown config key 'chekpoint' for "
     "FrozenTeacher; did you mean 'checkpoint'?"),
    ('loss', 'teacher_tmp', "unknown config key 'teacher_tmp' for SEEDLoss; "
     "did you mean 'teacher_temp'?"),
    ('loss', 'temperature', "unknown config key 'temperature' for SEEDLoss; "
     'valid keys: student_temp, teacher_temp'),
])
def test_misspelled_keys_of_mmseed_modules(module, key, expected, data_root):
    cfg = config(data_root).model.to_dict()
    cfg['loss'] = dict(type='SEEDLoss')
    (cfg if module == 'model' else cfg[module])[key] = 1
    with pytest.raises(TypeError) as err:
        MODELS.build(cfg)
    assert explain_build_error(err.value) == expected


def test_missing_required_keys():
    with pytest.raises(TypeError) as err:
        MODELS.build(dict(type='SEED', backbone=BACKBONE, neck=NECK))
    assert explain_build_error(err.value) == (
        "the config of SEED lacks the required key(s) 'teacher': add them to "
        'its dict')
    err = TypeError("FrozenTeacher.__init__() missing 2 required positional "
                    "arguments: 'backbone' and 'neck'")
    assert explain_build_error(err) == (
        "the config of FrozenTeacher lacks the required key(s) 'backbone', "
        "'neck': add them to its dict")
    assert explain_build_error(TypeError('unrelated')) is None
    assert explain_build_error(ValueError('x() missing 1 required')) is None


def test_each_module_checks_its_own_config_with_its_key(data_root):
    """check_config reaches every module's check_config classmethod, parts
    before the module that holds them."""
    from mmengine.model import BaseModule
    calls = []

    @MODELS.register_module(force=True)
    class CheckedPart(BaseModule):

        def __init__(self, width=3):
            super().__init__()

        @classmethod
        def check_config(cls, cfg, key, setting):
            calls.append((key, cfg.get('width'), setting.global_batch))

    model = dict(type='CheckedPart', width=1,
                 parts=[dict(type='CheckedPart', width=2)])
    check_config(config(data_root, model=model, batch_size=4))
    assert calls == [('model.parts[0]', 2, 4), ('model', 1, 4)]


def test_checks_registered_for_other_packages_types(data_root):
    from mmseed.utils.config_check import register_config_check
    seen = []
    check = register_config_check('ResNet')(
        lambda cfg, key, setting: seen.append((key, cfg['depth'])))
    try:
        check_config(config(data_root, model=dict(
            type='ImageClassifier', backbone=dict(type='ResNet', depth=18))))
    finally:
        from mmseed.utils import config_check
        config_check._EXTERNAL_CHECKS['ResNet'].remove(check)
    assert seen == [('model.backbone', 18)]


def test_seed_width_is_read_from_the_neck(data_root):
    cfg = config(data_root)
    del cfg.model.feat_dim  # SEED then reads it from its neck
    check_config(cfg)
    cfg.model.teacher.neck.out_channels = 32
    with pytest.raises(ConfigError) as err:
        check_config(cfg)
    assert str(err.value) == (
        'SEED compares student and teacher embeddings of one width, but the '
        'config gives student (model.neck.out_channels) 16, teacher '
        '(model.teacher.neck.out_channels) 32: set model.neck.out_channels '
        "to model.teacher.neck.out_channels (the teacher's is fixed by its "
        'checkpoint)')
    model = MODELS.build(dict(cfg.model, teacher=dict(cfg.model.teacher,
                                                      checkpoint=None)))
    assert model.feat_dim == 16 and model.queue.embeddings.shape == (64, 16)


def test_missing_teacher_checkpoint(data_root):
    cfg = config(data_root)
    cfg.model.teacher.checkpoint = 'nowhere/teacher.pth'
    with pytest.raises(ConfigError) as err:
        check_config(cfg)
    assert str(err.value) == (
        'teacher checkpoint not found: nowhere/teacher.pth; train or '
        'download the teacher and set --cfg-options '
        'model.teacher.checkpoint=PATH')
