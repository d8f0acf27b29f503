# Linear evaluation of a distilled MobileNetV3-Large on ImageNet. SEED's
# main_lincls.py can only build torchvision ResNets, and lr 30 is tuned to a
# ResNet's pooled features, so this uses MAE's linear probing (He et al.,
# 2022): a BatchNorm without affine parameters between the pooled features
# and the linear layer (calibrates the feature scale; still a linear
# classifier), LARS lr 0.1 x batch/256, 90 epochs (schedule file). Total batch
# 256. The features are the backbone's 960-wide last convolution (the SEED
# paper's student feeds MobileNetV3's 1280-wide classifier layer instead,
# which mmpretrain puts in the head).
#   bash tools/benchmarks/linear.sh CONFIG CHECKPOINT 8
_base_ = [
    '../../_base_/datasets/imagenet_linear.py',
    '../../_base_/benchmarks/mobilenet-v3-large_linear-bn-lars.py',
]

model = dict(
    data_preprocessor=_base_.data_preprocessor, head=dict(num_classes=1000))
