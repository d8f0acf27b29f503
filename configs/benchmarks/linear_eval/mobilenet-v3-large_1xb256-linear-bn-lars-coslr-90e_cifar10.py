# Linear evaluation of the CIFAR-10 MobileNetV3-Large student
# (configs/seed/seed_r18-cifar_to_mbv3_cifar10.py, 32-px inputs) on CIFAR-10
# with MAE's linear probing (He et al., 2022): BatchNorm without affine
# parameters before the linear layer, LARS lr 0.1 x batch/256, 90 epochs; see
# mobilenet-v3-large_8xb32-linear-bn-lars-coslr-90e_in1k.py for why not the
# ResNet recipe. Batch 256; 32-px crop with padding 4 + flip.
#   bash tools/benchmarks/linear.sh CONFIG CHECKPOINT
_base_ = [
    '../../_base_/models/mobilenet_v3_large.py',
    '../../_base_/datasets/cifar10_linear.py',
    '../../_base_/schedules/linear_lars_coslr_90e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    data_preprocessor=_base_.data_preprocessor,
    backbone=dict(
        **_base_.mobilenet_v3_large,
        # layer0 (stem) ... layer16 (last 1x1 convolution): all frozen, and
        # every BatchNorm kept in eval mode.
        frozen_stages=16,
        norm_eval=True,
        # Set by tools/benchmarks/linear.sh, or
        # --cfg-options model.backbone.init_cfg.checkpoint=PATH
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    # Global average pooling, then BatchNorm1d(affine=False, eps=1e-6).
    neck=[
        dict(type='GlobalAveragePooling'),
        dict(type='ClsBatchNormNeck',
             input_features=_base_.mobilenet_v3_large_channels),
    ],
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=_base_.mobilenet_v3_large_channels,
        loss=dict(type='CrossEntropyLoss'),
        topk=(1, 5)))
