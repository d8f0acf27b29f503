# Weighted kNN accuracy (k = 20 / 200, T = 0.07) on ImageNet (folder layout,
# 224 px) of a ResNet-18 student, e.g. of configs/seed/seed_r50_to_r18.py:
#   bash tools/benchmarks/knn.sh \
#       configs/benchmarks/knn/knn_r18_in1k.py CHECKPOINT 8
# CHECKPOINT: a SEED checkpoint (its student is backbone.*), a student
# exported by tools/model_converters/extract_student.py, or an mmpretrain
# MoCo checkpoint.
_base_ = [
    '../../_base_/models/resnet18.py',
    '../../_base_/datasets/imagenet_mocov2.py',  # for its normalisation
    '../../_base_/evaluation/imagenet_knn.py',
    '../../_base_/default_runtime.py',
    '../../_base_/benchmarks/knn.py',
]

model = dict(
    data_preprocessor=dict(_base_.data_preprocessor,
                           type='ClsDataPreprocessor'),
    backbone=_base_.resnet18)
# Only the test split and its bank are read (tools/test.py).
train_dataloader = val_dataloader = val_evaluator = val_cfg = None
