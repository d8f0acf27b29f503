# Semi-supervised evaluation of a distilled ResNet-18 on ImageNet with 10% of
# the labels (SimCLR's 10percent.txt, 128,116 images): the SimCLR protocol
# fine-tunes for 30 epochs here. See resnet18_8xb32-ft-coslr-60e_in1k-1pct.py.
#   python tools/dataset_converters/make_label_subset.py from-list \
#       data/imagenet/train 10percent.txt
# writes data/imagenet/meta/train_10percent.txt.
_base_ = ['./resnet18_8xb32-ft-coslr-60e_in1k-1pct.py']

train_dataloader = dict(dataset=dict(ann_file='meta/train_10percent.txt'))
# The 1% schedule, cosine over 30 epochs instead of 60.
param_scheduler = [dict(_base_.param_scheduler[0], T_max=30, end=30)]
train_cfg = dict(max_epochs=30)
