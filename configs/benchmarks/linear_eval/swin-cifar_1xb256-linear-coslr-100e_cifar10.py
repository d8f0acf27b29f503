# Linear evaluation of the reduced CIFAR Swin (configs/esvit/*_swin-cifar_*)
# on CIFAR-10, DINO's protocol (facebookresearch/dino eval_linear.py, which
# EsViT keeps): frozen backbone, a linear layer on the pooled last-stage
# feature, SGD lr 0.001 x batch/256, momentum 0.9, no weight decay, cosine
# over 100 epochs; 32-px crop with padding 4 + flip. EsViT concatenates the
# pooled outputs of Swin-T's last 4 blocks (--n_last_blocks 4); here the last
# stage's output alone.
#   bash tools/benchmarks/linear.sh CONFIG CHECKPOINT
# CHECKPOINT: the teacher exported by
#   tools/model_converters/extract_student.py ESVIT_CKPT OUT --module teacher
_base_ = [
    '../../_base_/models/swin_cifar.py',
    '../../_base_/datasets/cifar10_linear.py',
    '../../_base_/default_runtime.py',
    '../../_base_/benchmarks/classifier.py',
]

model = dict(
    data_preprocessor=_base_.data_preprocessor,
    # All 3 stages and their output norm frozen.
    backbone=dict(**_base_.swin_cifar, frozen_stages=2),
    head=dict(num_classes=10, in_channels=_base_.swin_cifar_channels))
model['backbone']['drop_path_rate'] = 0.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=0.))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=100, by_epoch=True, begin=0,
         end=100)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
