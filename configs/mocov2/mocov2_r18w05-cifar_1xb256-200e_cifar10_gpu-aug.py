# mocov2_r18w05-cifar_1xb256-200e_cifar10.py with the views made on the GPU,
# as mocov2_r18-cifar_1xb256-200e_cifar10_gpu-aug.py: the MoCo-v2 twin of
# configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10_gpu-aug.py.
_base_ = [
    './mocov2_r18w05-cifar_1xb256-200e_cifar10.py',
    '../_base_/datasets/cifar10_gpu_aug.py',
]

model = dict(data_preprocessor=_base_.gpu_aug_preprocessor)
train_dataloader = _base_.gpu_aug_train_dataloader
