# Linear evaluation of a distilled ResNet-34 on ImageNet, the SEED protocol
# (Fang et al., ICLR 2021); see resnet18_8xb32-linear-steplr-100e_in1k.py.
_base_ = [
    './resnet18_8xb32-linear-steplr-100e_in1k.py',
    '../../_base_/models/resnet34.py',
]

model = dict(
    backbone=dict(depth=_base_.resnet34.depth),
    head=dict(in_channels=_base_.resnet34_channels))
