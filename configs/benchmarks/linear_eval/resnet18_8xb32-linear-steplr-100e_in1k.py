# Linear evaluation of a distilled ResNet-18 on ImageNet with the SEED
# protocol (Fang et al., ICLR 2021, Table 1: SEED ResNet-18 57.6 top-1 from a
# MoCo-v2 ResNet-50): frozen backbone, BatchNorm in eval mode, a linear layer
# on the pooled 512-d features, SGD lr 30, 100 epochs, total batch 256.
#   bash tools/benchmarks/linear.sh CONFIG CHECKPOINT 8
# CHECKPOINT: a full mmseed SEED checkpoint (student = backbone.*), a student
# exported by tools/model_converters/extract_student.py, or an
# mmpretrain/mmselfsup checkpoint with backbone.* keys.
_base_ = [
    '../../_base_/models/resnet18.py',
    '../../_base_/datasets/imagenet_linear.py',
    '../../_base_/schedules/linear_sgd_steplr_100e.py',
    '../../_base_/default_runtime.py',
    '../../_base_/benchmarks/classifier.py',
]

model = dict(
    data_preprocessor=_base_.data_preprocessor,
    # Every stage frozen (stem + 4 stages: no gradient, eval mode) and every
    # BatchNorm kept in eval mode, so not even the running statistics change
    # (SEED's main_lincls.py runs model.eval()).
    backbone=dict(**_base_.resnet18, frozen_stages=4, norm_eval=True),
    head=dict(num_classes=1000, in_channels=_base_.resnet18_channels))
