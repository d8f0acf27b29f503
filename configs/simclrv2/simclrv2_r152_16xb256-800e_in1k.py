# SimCLRv2 pretraining of a bigger teacher, a ResNet-152 (1x width) on
# ImageNet: the ResNet-50 recipe with a deeper backbone. The paper's largest
# model, ResNet-152 3x with selective kernels (SK), has no mmpretrain
# backbone; this is the deepest ResNet the stack provides.
_base_ = [
    './simclrv2_r50_16xb256-800e_in1k.py',
    '../_base_/models/resnet152.py',
]

model = dict(backbone=dict(_delete_=True, **_base_.resnet152))
