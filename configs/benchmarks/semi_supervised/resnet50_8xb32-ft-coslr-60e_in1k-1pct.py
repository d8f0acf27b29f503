# Semi-supervised evaluation of a distilled ResNet-50 on ImageNet with 1% of
# the labels; see resnet18_8xb32-ft-coslr-60e_in1k-1pct.py.
_base_ = [
    './resnet18_8xb32-ft-coslr-60e_in1k-1pct.py',
    '../../_base_/models/resnet50.py',
]

model = dict(
    backbone=dict(depth=_base_.resnet50.depth),
    head=dict(in_channels=_base_.resnet50_channels))
