# Linear evaluation of a distilled MobileNetV3-Large on ImageNet. SEED's
# main_lincls.py can only build torchvision ResNets, and lr 30 is tuned to a
# ResNet's pooled features, so this uses MAE's linear probing (He et al.,
# 2022): a BatchNorm without affine parameters between the pooled features
# and the linear layer (calibrates the feature scale; still a linear
# classifier), LARS lr 0.1 x batch/256, 90 epochs (schedule file). Total batch
# 256. The features are the backbone's 960-wide last convolution (the SEED
# paper's student feeds MobileNetV3's 1280-wide classifier layer instead,
# which mmpretrain puts in the head).
#   bash tools/benchmarks/linear.sh CONFIG CHECKPOINT 8
_base_ = [
    '../../_base_/models/mobilenet_v3_large.py',
    '../../_base_/datasets/imagenet_linear.py',
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
        num_classes=1000,
        in_channels=_base_.mobilenet_v3_large_channels,
        loss=dict(type='CrossEntropyLoss'),
        topk=(1, 5)))
