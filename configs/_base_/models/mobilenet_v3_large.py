# MobileNetV3-Large (Howard et al., 2019); the last 1x1 convolution gives a
# 960-wide feature map (the classifier's 1280-wide layer is not part of the
# backbone).
# BatchNorm as SEED's official MobileNetV3 (jacobswan1/SEED,
# seed/architectures/mobilenet/mobilenetv3.py: plain nn.BatchNorm2d, so
# momentum 0.1, eps 1e-5), not mmpretrain's TensorFlow-style default
# (momentum 0.01, eps 1e-3). With 0.01 the running statistics trail a short
# run's weights: a MobileNetV3-L SEED student of 92 CIFAR-10 steps had kNN
# 7.8 in eval mode and 22.9 once the same weights' statistics were
# re-estimated (docs/results.md, "MobileNetV3-L's BatchNorm").
mobilenet_v3_large = dict(
    type='MobileNetV3', arch='large',
    norm_cfg=dict(type='BN', eps=1e-5, momentum=0.1))
mobilenet_v3_large_channels = 960
