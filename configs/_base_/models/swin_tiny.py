# Swin-T (Liu et al., 2021), window 7, 224 px, as EsViT pretrains it;
# 768-wide final feature map.
swin_tiny = dict(type='SwinTransformer', arch='tiny', img_size=224,
                 drop_path_rate=0.1)
swin_tiny_channels = 768
