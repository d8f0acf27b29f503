# Linear evaluation of a distilled EfficientNet-B0 on ImageNet with MAE's
# linear probing (BatchNorm without affine before the linear layer, LARS);
# see mobilenet-v3-large_8xb32-linear-bn-lars-coslr-90e_in1k.py.
_base_ = [
    './mobilenet-v3-large_8xb32-linear-bn-lars-coslr-90e_in1k.py',
    '../../_base_/models/efficientnet_b0.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        **_base_.efficientnet_b0,
        # All 7 layers: the stem, 5 groups of MBConv blocks, the last 1x1
        # convolution.
        frozen_stages=7,
        norm_eval=True,
        init_cfg=_base_.model.backbone.init_cfg),
    neck=[
        dict(type='GlobalAveragePooling'),
        dict(type='ClsBatchNormNeck',
             input_features=_base_.efficientnet_b0_channels),
    ],
    head=dict(in_channels=_base_.efficientnet_b0_channels))
