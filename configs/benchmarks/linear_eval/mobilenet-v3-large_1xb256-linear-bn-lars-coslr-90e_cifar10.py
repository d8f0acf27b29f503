# Linear evaluation of the CIFAR-10 MobileNetV3-Large student
# (configs/seed/seed_r18-cifar_to_mbv3_cifar10.py, 32-px inputs) on CIFAR-10
# with MAE's linear probing (He et al., 2022): BatchNorm without affine
# parameters before the linear layer, LARS lr 0.1 x batch/256, 90 epochs; see
# mobilenet-v3-large_8xb32-linear-bn-lars-coslr-90e_in1k.py for why not the
# ResNet recipe. Batch 256; 32-px crop with padding 4 + flip.
#   bash tools/benchmarks/linear.sh CONFIG CHECKPOINT
_base_ = [
    '../../_base_/datasets/cifar10_linear.py',
    '../../_base_/benchmarks/mobilenet-v3-large_linear-bn-lars.py',
]

model = dict(
    data_preprocessor=_base_.data_preprocessor, head=dict(num_classes=10))
