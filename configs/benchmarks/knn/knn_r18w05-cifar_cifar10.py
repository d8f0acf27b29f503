# Weighted kNN accuracy (k = 20 / 200, T = 0.07) on CIFAR-10 of the half-width
# ResNet-18 student of configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py:
#   bash tools/benchmarks/knn.sh \
#       configs/benchmarks/knn/knn_r18w05-cifar_cifar10.py CHECKPOINT
# CHECKPOINT: a SEED checkpoint (its student is backbone.*), a student
# exported by tools/model_converters/extract_student.py, or an mmpretrain
# MoCo checkpoint.
_base_ = [
    '../../_base_/models/resnet18w05_cifar.py',
    '../../_base_/datasets/cifar10_mocov2.py',  # for its normalisation
    '../../_base_/evaluation/cifar10_knn.py',
    '../../_base_/default_runtime.py',
    '../../_base_/benchmarks/knn.py',
]

model = dict(
    data_preprocessor=dict(_base_.data_preprocessor,
                           type='ClsDataPreprocessor'),
    backbone=_base_.resnet18w05_cifar)
# Only the test split and its bank are read (tools/test.py).
train_dataloader = val_dataloader = val_evaluator = val_cfg = None
