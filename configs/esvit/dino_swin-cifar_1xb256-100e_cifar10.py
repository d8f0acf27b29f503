# The same backbone and budget with the view loss alone (DINO's loss at
# weight 1): EsViT's region loss is the only difference.
_base_ = ['./esvit_swin-cifar_1xb256-100e_cifar10.py']

model = dict(region_head=None)
