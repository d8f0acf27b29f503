# Semi-supervised evaluation of a full-width CIFAR ResNet-18 on CIFAR-10 with
# 10% of the labels: its 1% config with the 10% subset and 30 epochs; see
# resnet18w05-cifar_1xb256-ft-coslr-30e_cifar10-10pct.py.
_base_ = ['./resnet18-cifar_1xb256-ft-coslr-60e_cifar10-1pct.py']

train_dataloader = dict(dataset=dict(ann_file='meta/train_10pct_seed0.txt'))
# The 1% schedule, cosine over 30 epochs instead of 60.
param_scheduler = [dict(_base_.param_scheduler[0], T_max=30, end=30)]
train_cfg = dict(max_epochs=30)
