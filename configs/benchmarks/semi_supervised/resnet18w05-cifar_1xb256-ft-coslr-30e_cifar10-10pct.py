# Semi-supervised evaluation of the half-width CIFAR ResNet-18 student on
# CIFAR-10 with 10% of the labels (500 images per class, seed 0): the SimCLR
# protocol fine-tunes for 30 epochs here. See
# resnet18w05-cifar_1xb256-ft-coslr-60e_cifar10-1pct.py.
#   bash tools/benchmarks/semi.sh CONFIG CHECKPOINT
# (writes data/cifar10/meta/train_10pct_seed0.txt first if it is missing:
#  make_label_subset.py sample data/cifar10/train --fraction 0.1 --seed 0)
_base_ = ['./resnet18w05-cifar_1xb256-ft-coslr-60e_cifar10-1pct.py']

train_dataloader = dict(dataset=dict(ann_file='meta/train_10pct_seed0.txt'))
# The 1% schedule, cosine over 30 epochs instead of 60.
param_scheduler = [dict(_base_.param_scheduler[0], T_max=30, end=30)]
train_cfg = dict(max_epochs=30)
