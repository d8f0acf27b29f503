# MoCo-v2 ResNet-18 (CIFAR stem) on CIFAR-10, 200 epochs, batch 256: the
# CIFAR-10 teacher that mmseed's CIFAR SEED configs distil from.
# Hyper-parameters follow the MoCo CIFAR-10 demo of facebookresearch/moco
# (lr 0.06 at batch 512, so 0.03 at 256; wd 5e-4; queue 4096; m 0.99; T 0.1).
_base_ = [
    '../_base_/models/resnet18_cifar.py',
    '../_base_/datasets/cifar10_mocov2.py',
    '../_base_/evaluation/cifar10_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # mmpretrain's MoCo, key encoder first (mmseed/models/algorithms/mocov2.py).
    type='MoCoV2',
    queue_len=4096,
    feat_dim=128,
    momentum=0.01,  # mmpretrain's momentum is 1 - m: m = 0.99
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet18_cifar,
    neck=dict(
        type='MoCoV2Neck',
        in_channels=_base_.resnet18_cifar_channels,
        hid_channels=512,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.1))

optim_wrapper = dict(optimizer=dict(lr=0.03, weight_decay=5e-4))
default_hooks = dict(checkpoint=dict(interval=5), logger=dict(interval=20))
# kNN accuracy of the backbone on the CIFAR-10 test split at
# epochs 10, 20, ...; runs shorter than 10 epochs skip it.
train_cfg = dict(val_interval=10, val_begin=10)
