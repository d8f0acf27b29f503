# The supervised CIFAR-10 teacher of the CRD configs: ResNet-18 (CIFAR stem)
# trained on the labels with cross-entropy, RepDistiller's recipe (SGD lr
# 0.05, batch 64, wd 5e-4, 240 epochs, x0.1 at 150/180/210) and augmentation
# (random crop with 4-px padding, horizontal flip).
_base_ = [
    '../_base_/models/resnet18_cifar.py',
    '../_base_/datasets/cifar10_linear.py',
    '../_base_/schedules/crd_sgd_steplr_240e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet18_cifar,
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10,
              in_channels=_base_.resnet18_cifar_channels,
              loss=dict(type='CrossEntropyLoss'), topk=(1, 5),
              # PyTorch's default Linear init, as RepDistiller's models
              # (mmpretrain's head default is N(0, 0.01)).
              init_cfg=None))
train_dataloader = dict(batch_size=64)
default_hooks = dict(checkpoint=dict(interval=10), logger=dict(interval=100))
