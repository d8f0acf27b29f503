# Semi-supervised evaluation of a distilled MobileNetV3-Large on ImageNet with
# 10% of the labels: its 1% config with SimCLR's 10percent.txt and 30 epochs;
# see resnet18_8xb32-ft-coslr-30e_in1k-10pct.py.
_base_ = ['./mobilenet-v3-large_8xb32-ft-coslr-60e_in1k-1pct.py']

train_dataloader = dict(dataset=dict(ann_file='meta/train_10percent.txt'))
# The 1% schedule, cosine over 30 epochs instead of 60.
param_scheduler = [dict(_base_.param_scheduler[0], T_max=30, end=30)]
train_cfg = dict(max_epochs=30)
