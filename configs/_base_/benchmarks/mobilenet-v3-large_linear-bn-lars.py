# MAE's linear probing (He et al., 2022) of a MobileNetV3-Large, shared by the
# ImageNet and CIFAR-10 configs (each adds its dataset's data_preprocessor and
# num_classes): frozen backbone, pooled features through a BatchNorm without
# affine parameters, a linear layer, LARS lr 0.1 x batch/256, 90 epochs. Why
# not the ResNet recipe: configs/benchmarks/linear_eval/
# mobilenet-v3-large_8xb32-linear-bn-lars-coslr-90e_in1k.py.
_base_ = [
    '../models/mobilenet_v3_large.py',
    '../schedules/linear_lars_coslr_90e.py',
    '../default_runtime.py',
    './classifier.py',
]

model = dict(
    backbone=dict(
        **_base_.mobilenet_v3_large,
        # layer0 (stem) ... layer16 (last 1x1 convolution): all frozen, and
        # every BatchNorm kept in eval mode.
        frozen_stages=16,
        norm_eval=True),
    # Global average pooling, then BatchNorm1d(affine=False, eps=1e-6).
    neck=[
        dict(type='GlobalAveragePooling'),
        dict(type='ClsBatchNormNeck',
             input_features=_base_.mobilenet_v3_large_channels),
    ],
    head=dict(in_channels=_base_.mobilenet_v3_large_channels))
