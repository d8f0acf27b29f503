# mocov2_r18-cifar_1xb256-200e_cifar10.py with the views made on the GPU:
# CIFAR-10 decoded once into memory, the MoCo-v2 CIFAR augmentation applied
# to each uint8 batch by the data preprocessor (same distribution as the CPU
# pipeline), so two CPU cores do not starve the GPU.
_base_ = [
    './mocov2_r18-cifar_1xb256-200e_cifar10.py',
    '../_base_/datasets/cifar10_gpu_aug.py',
]

model = dict(data_preprocessor=_base_.gpu_aug_preprocessor)
train_dataloader = _base_.gpu_aug_train_dataloader
