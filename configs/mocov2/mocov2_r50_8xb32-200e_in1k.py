# MoCo-v2 ResNet-50 on ImageNet, 200 epochs, total batch 256 (8 GPUs x 32):
# the teacher of SEED's ResNet-18/34, MobileNetV3 and EfficientNet students
# (He et al., 2020; Chen et al., 2020).
_base_ = [
    '../_base_/models/resnet50.py',
    '../_base_/datasets/imagenet_mocov2.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # mmpretrain's MoCo, key encoder first (mmseed/models/algorithms/mocov2.py).
    type='MoCoV2',
    queue_len=65536,
    feat_dim=128,
    # mmpretrain's momentum is 1 - m: key encoder m = 0.999.
    momentum=0.001,
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet50,
    neck=dict(
        type='MoCoV2Neck',
        in_channels=_base_.resnet50_channels,
        hid_channels=2048,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.2))
