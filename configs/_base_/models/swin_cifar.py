# A reduced Swin for 32-px CIFAR images (the CIFAR-10 EsViT configs): 3
# stages (embed 48, depths [2, 2, 2], heads [3, 6, 12]), patch 2, window 4,
# so a 32-px image gives a 4 x 4 last stage (16 tokens) and a 16-px crop a
# 2 x 2 one, padded to the window (pad_small_map). 1.3 M parameters;
# 192-wide final feature map.
swin_cifar = dict(
    type='mmpretrain.SwinTransformer',
    arch=dict(embed_dims=48, depths=[2, 2, 2], num_heads=[3, 6, 12]),
    img_size=32, patch_size=2, window_size=4, pad_small_map=True,
    out_indices=(2, ), drop_path_rate=0.1)
swin_cifar_channels = 192
