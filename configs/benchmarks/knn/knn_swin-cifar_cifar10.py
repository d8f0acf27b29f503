# Weighted kNN accuracy (k = 20 / 200, T = 0.07) on CIFAR-10 of the reduced
# Swin of configs/esvit/*_swin-cifar_*:
#   bash tools/benchmarks/knn.sh \
#       configs/benchmarks/knn/knn_swin-cifar_cifar10.py CHECKPOINT
# CHECKPOINT: the teacher exported by
#   tools/model_converters/extract_student.py ESVIT_CKPT OUT --module teacher
# (DINO and EsViT evaluate the teacher), or the run's checkpoint (student).
_base_ = [
    '../../_base_/models/swin_cifar.py',
    '../../_base_/datasets/cifar10_mocov2.py',  # for its normalisation
    '../../_base_/evaluation/cifar10_knn.py',
    '../../_base_/default_runtime.py',
    '../../_base_/benchmarks/knn.py',
]

model = dict(
    data_preprocessor=dict(_base_.data_preprocessor,
                           type='ClsDataPreprocessor'),
    backbone=dict(_base_.swin_cifar, drop_path_rate=0.))
# Only the test split and its bank are read (tools/test.py).
train_dataloader = val_dataloader = val_evaluator = val_cfg = None
