# Semi-supervised evaluation of a distilled ResNet-18 on ImageNet: the whole
# network is fine-tuned on 1% of the labels (12,811 images) with the SimCLR
# protocol (Chen et al., ICML 2020, appendix B.5; schedule file), total batch
# 256, and tested on the whole validation set.
# The subset is SimCLR's 1percent.txt (google-research/simclr,
# imagenet_subsets/), converted to an annotation file first:
#   python tools/dataset_converters/make_label_subset.py from-list \
#       data/imagenet/train 1percent.txt
# writes data/imagenet/meta/train_1percent.txt.
#   bash tools/benchmarks/semi.sh CONFIG CHECKPOINT 8
_base_ = [
    '../../_base_/models/resnet18.py',
    '../../_base_/datasets/imagenet_linear.py',
    '../../_base_/schedules/semi_sgd_coslr_60e.py',
    '../../_base_/default_runtime.py',
    '../../_base_/benchmarks/classifier.py',
]

model = dict(
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet18,
    head=dict(num_classes=1000, in_channels=_base_.resnet18_channels))

# "<class>/<file> <label>" lines, relative to data_root/train.
train_dataloader = dict(dataset=dict(ann_file='meta/train_1percent.txt'))
