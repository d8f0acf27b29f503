"""KNNValLoop / KNNTestLoop: features through each model's own preprocessor,
bank and queries evaluated by KNNAccuracy, the model's mode restored."""
import shutil

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.evaluation import Accuracy
from mmpretrain.structures import DataSample

from mmseed.engine import extract_features
from mmseed.evaluation import weighted_knn_scores
from mmseed.registry import DATASETS, LOOPS, MODELS
from mmseed.utils import register_all_modules
from mmseed.utils.config_check import ConfigError

register_all_modules()

MOCO_CIFAR = 'configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py'
TINY_RESNET = dict(type='ResNet_CIFAR', depth=18, stem_channels=8,
                   base_channels=8)
MEAN, STD = [100., 120., 140.], [50., 60., 70.]
NECK = dict(type='MoCoV2Neck', in_channels=64, hid_channels=64,
            out_channels=16, with_avg_pool=True)
MODEL_CFGS = {
    'ImageClassifier': dict(
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', mean=MEAN,
                               std=STD, to_rgb=True),
        backbone=TINY_RESNET,
        neck=dict(type='GlobalAveragePooling')),
    'MoCo': dict(
        type='MoCo', queue_len=32, feat_dim=16, backbone=TINY_RESNET,
        data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=MEAN,
                               std=STD, to_rgb=True),
        neck=NECK,
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                  temperature=0.1)),
    'SEED': dict(
        type='SEED', queue_len=32, feat_dim=16, backbone=TINY_RESNET,
        data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=MEAN,
                               std=STD, to_rgb=True),
        neck=NECK,
        # A wider teacher: extract_feat must give the student's features.
        teacher=dict(type='FrozenTeacher', backbone=dict(
            TINY_RESNET, stem_channels=16, base_channels=16))),
}


def samples(labels):
    return [DataSample().set_gt_label(y) for y in labels]


@pytest.mark.parametrize('name', list(MODEL_CFGS))
def test_features_go_through_the_models_preprocessor(name):
    torch.manual_seed(0)
    model = MODELS.build(MODEL_CFGS[name]).eval()
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    labels = [3, 1, 4, 1]
    # By hand: BGR -> RGB, normalise, backbone, average-pool the last map.
    x = (images.flip(1).float() - torch.tensor(MEAN).view(1, 3, 1, 1)) / \
        torch.tensor(STD).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = model.backbone(x)[-1].mean(dim=(2, 3))
    batches = {
        'default_collate': images,
        'pseudo_collate': list(images),
    }
    if name != 'ImageClassifier':  # a one-view MultiView pipeline
        batches['multi-view'] = [images]
    for collate, inputs in batches.items():
        with torch.no_grad():
            feats, got_labels = extract_features(
                model, dict(inputs=inputs, data_samples=samples(labels)))
        assert torch.allclose(feats, expected, atol=1e-5), collate
        assert got_labels.tolist() == labels


@pytest.fixture(scope='module')
def runner(cifar_slice, tmp_path_factory):
    """A MoCo runner (tiny ResNet) whose kNN validation reads the slice."""
    cfg = Config.fromfile(MOCO_CIFAR)
    cfg.model.backbone.update(stem_channels=8, base_channels=8)
    cfg.model.neck.in_channels = 64
    cfg.work_dir = str(tmp_path_factory.mktemp('knn_runner'))
    cfg.val_dataloader.dataset.data_root = str(cifar_slice)
    cfg.val_dataloader.update(batch_size=32, num_workers=0)  # 32, 32, 16
    cfg.val_cfg.bank_dataloader.update(batch_size=24, num_workers=0)
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    return Runner.from_cfg(cfg)


def slice_batch(root, split):
    """Every image of a slice split as one default_collate batch."""
    dataset = DATASETS.build(dict(
        type='CustomDataset', data_root=str(root), data_prefix=split,
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))
    items = [dataset[i] for i in range(len(dataset))]
    return dict(inputs=torch.stack([item['inputs'] for item in items]),
                data_samples=[item['data_samples'] for item in items])


def test_val_loop_evaluates_the_whole_split_and_restores_train_mode(
        runner, cifar_slice):
    model = runner.model
    model.train()
    metrics = runner.val_loop.run()
    assert model.training and model.backbone.training

    # The same metric from features of each split taken in one batch: the
    # loop's batching and its bank (train/, found under the val root) agree.
    with torch.no_grad():
        model.eval()
        bank, bank_labels = extract_features(
            model, slice_batch(cifar_slice, 'train'))
        queries, labels = extract_features(
            model, slice_batch(cifar_slice, 'test'))
    assert len(bank) == len(queries) == 80
    scores = weighted_knn_scores(bank, bank_labels, queries, 10, (20, 200))
    expected = {}
    for k, score in scores.items():
        top1, top5 = Accuracy.calculate(score, labels, topk=(1, 5))
        expected[f'knn/top1_k{k}'] = top1[0].item()
        expected[f'knn/top5_k{k}'] = top5[0].item()
    assert metrics == pytest.approx(expected)


def test_eval_mode_stays_eval(runner):
    runner.model.eval()
    runner.val_loop.run()
    assert not runner.model.training


def test_loop_without_knn_metric_is_a_config_error(runner, cifar_slice):
    loop = dict(type='KNNTestLoop', runner=runner,
                dataloader=runner.cfg.val_dataloader,
                evaluator=dict(type='Accuracy'),
                bank_dataloader=runner.cfg.val_cfg.bank_dataloader)
    with pytest.raises(ConfigError, match=r"test_evaluator=dict\(type='KNN"):
        LOOPS.build(loop)


def test_missing_bank_folder_is_a_config_error(runner, cifar_slice,
                                              tmp_path):
    shutil.copytree(cifar_slice / 'test', tmp_path / 'test')  # no train/
    dataloader = Config(dict(runner.cfg.val_dataloader))
    dataloader.dataset.data_root = str(tmp_path)
    loop = dict(type='KNNValLoop', runner=runner, dataloader=dataloader,
                evaluator=dict(type='KNNAccuracy'),
                bank_dataloader=runner.cfg.val_cfg.bank_dataloader)
    with pytest.raises(ConfigError) as err:
        LOOPS.build(loop)
    assert f'kNN data not found: {tmp_path}/train' in str(err.value)
    assert 'val_dataloader.dataset.data_root=PATH' in str(err.value)
