# Semi-supervised evaluation of the half-width CIFAR ResNet-18 student
# (configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py) on CIFAR-10: the
# whole network is fine-tuned on 1% of the labels (50 images per class, drawn
# with seed 0) with the SimCLR protocol (Chen et al., ICML 2020, appendix
# B.5: Nesterov SGD lr 0.05 x batch/256, no weight decay, cosine, 60 epochs
# for 1%), batch 256, 32-px crop with padding 4 + flip; tested on the whole
# test split.
#   bash tools/benchmarks/semi.sh CONFIG CHECKPOINT
# The subset file is written by
#   python tools/dataset_converters/make_label_subset.py sample \
#       data/cifar10/train --fraction 0.01 --seed 0
# (tools/benchmarks/semi.sh runs this itself when the file is missing).
# Another draw: --cfg-options train_dataloader.dataset.ann_file=meta/train_1pct_seed1.txt
_base_ = [
    '../../_base_/models/resnet18w05_cifar.py',
    '../../_base_/datasets/cifar10_linear.py',
    '../../_base_/schedules/semi_sgd_coslr_60e.py',
    '../../_base_/default_runtime.py',
    '../../_base_/benchmarks/classifier.py',
]

model = dict(
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet18w05_cifar,
    head=dict(num_classes=10, in_channels=_base_.resnet18w05_cifar_channels))

# "<class>/<file> <label>" lines, relative to data_root/train.
train_dataloader = dict(dataset=dict(ann_file='meta/train_1pct_seed0.txt'))
