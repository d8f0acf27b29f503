# SimCLRv2 pretraining (Chen et al., NeurIPS 2020) of a ResNet-18 (CIFAR stem)
# on CIFAR-10: the official CIFAR-10 command (google-research/simclr README:
# batch 512, 1000 epochs, lr 1.0 x 512/256, wd 1e-4, temperature 0.5, colour
# jitter strength 0.5, no blur) with SimCLRv2's 3-layer head (512-512-128).
# Step 1 of 3; fine-tune with simclrv2-ft_*, distil with simclrv2-distill_*,
# or run all three: tools/benchmarks/cifar10_simclrv2.py.
_base_ = [
    '../_base_/models/resnet18_cifar.py',
    '../_base_/datasets/cifar10_simclr.py',
    '../_base_/evaluation/cifar10_knn.py',
    '../_base_/schedules/simclrv2_lars_coslr_1000e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='SimCLRv2',
    temperature=0.5,
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet18_cifar,
    neck=dict(type='SimCLRv2Neck', in_channels=_base_.resnet18_cifar_channels,
              out_channels=128, num_layers=3))
train_dataloader = dict(batch_size=512)
default_hooks = dict(checkpoint=dict(interval=10), logger=dict(interval=20))
# kNN accuracy of the backbone on the CIFAR-10 test split every 10 epochs.
train_cfg = dict(val_interval=10, val_begin=10)
