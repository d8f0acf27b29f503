# Linear evaluation of the half-width CIFAR ResNet-18 student
# (configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py) on CIFAR-10 with
# the SEED protocol (Fang et al., ICLR 2021; jacobswan1/SEED main_lincls.py):
# frozen backbone, BatchNorm in eval mode, a linear layer on the pooled
# features, SGD lr 30, no weight decay, 100 epochs, lr x0.1 at 60 and 80,
# batch 256; 32-px crop with padding 4 + flip.
#   bash tools/benchmarks/linear.sh CONFIG CHECKPOINT
# CHECKPOINT: the SEED run's checkpoint (student = backbone.*), or the
# student exported by tools/model_converters/extract_student.py.
_base_ = [
    '../../_base_/models/resnet18w05_cifar.py',
    '../../_base_/datasets/cifar10_linear.py',
    '../../_base_/schedules/linear_sgd_steplr_100e.py',
    '../../_base_/default_runtime.py',
    '../../_base_/benchmarks/classifier.py',
]

model = dict(
    data_preprocessor=_base_.data_preprocessor,
    # Every stage frozen (stem + 4 stages) and every BatchNorm in eval mode:
    # neither weights nor running statistics change.
    backbone=dict(**_base_.resnet18w05_cifar, frozen_stages=4, norm_eval=True),
    head=dict(num_classes=10, in_channels=_base_.resnet18w05_cifar_channels))
