# SimCLR alone on CIFAR-10, half-width ResNet-18: the same-budget baseline
# of DoGo's peer 2 in configs/dogo/dogo_r18-cifar_r18w05-cifar_*: its
# network, head, views (two SimCLR views), NT-Xent T 0.5, Adam and epochs,
# without the other peer and the KL term.
_base_ = [
    '../_base_/models/resnet18w05_cifar.py',
    '../_base_/datasets/cifar10_simclr.py',
    '../_base_/evaluation/cifar10_knn.py',
    '../_base_/schedules/adam_200e.py',
    '../_base_/default_runtime.py',
]

views = [dict(name='views', num_views=2, size=32, scale=(0.08, 1.),
              jitter=(0.8, 0.8, 0.8, 0.2))]
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='SafeLoadImageFromFile'),
    dict(type='MultiViewGroups', views=views),
    dict(type='PackInputs'),
]))
model = dict(
    type='SimCLR',
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet18w05_cifar,
    neck=dict(
        type='NonLinearNeck',
        in_channels=_base_.resnet18w05_cifar_channels,
        hid_channels=512,
        out_channels=128,
        num_layers=2,
        with_bias=False,
        with_last_bias=True,
        with_last_bn=False,
        with_avg_pool=True,
        norm_cfg=dict(type='BN1d')),
    temperature=0.5)
default_hooks = dict(checkpoint=dict(interval=5), logger=dict(interval=20))
train_cfg = dict(val_interval=10, val_begin=10)
