# MobileNetV3-Large (Howard et al., 2019); the last 1x1 convolution gives a
# 960-wide feature map (the classifier's 1280-wide layer is not part of the
# backbone).
mobilenet_v3_large = dict(type='MobileNetV3', arch='large')
mobilenet_v3_large_channels = 960
