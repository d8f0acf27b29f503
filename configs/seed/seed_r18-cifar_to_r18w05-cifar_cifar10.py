# SEED on CIFAR-10: the CIFAR-10 MoCo-v2 ResNet-18 teacher
# (configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py) -> a half-width
# ResNet-18, 200 epochs, batch 256, SGD lr 0.03 (0.03 x 256/256, as the
# paper), wd 1e-4, cosine. The queue holds 4096 embeddings, as the CIFAR-10
# MoCo teacher's (65536 exceeds CIFAR-10's 50,000 images).
# Teacher: --cfg-options model.teacher.checkpoint=work_dirs/<teacher run>/epoch_200.pth
_base_ = [
    '../_base_/models/resnet18_cifar.py',
    '../_base_/models/resnet18w05_cifar.py',
    '../_base_/datasets/cifar10_seed.py',
    '../_base_/evaluation/cifar10_knn.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='SEED',
    queue_len=4096,
    feat_dim=128,
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet18w05_cifar,
    neck=dict(
        type='MoCoV2Neck',
        in_channels=_base_.resnet18w05_cifar_channels,
        hid_channels=_base_.resnet18w05_cifar_channels,
        out_channels=128,
        with_avg_pool=True),
    # The teacher as configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py
    # trains it; its checkpoint's backbone.* and neck.* are the query encoder.
    teacher=dict(
        type='FrozenTeacher',
        backbone=_base_.resnet18_cifar,
        neck=dict(
            type='MoCoV2Neck',
            in_channels=_base_.resnet18_cifar_channels,
            hid_channels=512,
            out_channels=128,
            with_avg_pool=True),
        checkpoint='work_dirs/mocov2_r18-cifar_1xb256-200e_cifar10/epoch_200.pth'),
    loss=dict(type='SEEDLoss', student_temp=0.2, teacher_temp=1e-4))

default_hooks = dict(checkpoint=dict(interval=5), logger=dict(interval=20))
# kNN accuracy of the student backbone on the CIFAR-10 test split at
# epochs 10, 20, ...; runs shorter than 10 epochs skip it.
train_cfg = dict(val_interval=10, val_begin=10)
