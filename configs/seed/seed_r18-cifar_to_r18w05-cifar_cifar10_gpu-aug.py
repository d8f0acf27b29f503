# seed_r18-cifar_to_r18w05-cifar_cifar10.py with the view made on the GPU:
# CIFAR-10 decoded once into memory, the MoCo-v2 CIFAR augmentation applied
# to each uint8 batch by the data preprocessor (same distribution as the CPU
# pipeline); teacher and student see the one view, as in the CPU config.
_base_ = [
    './seed_r18-cifar_to_r18w05-cifar_cifar10.py',
    '../_base_/datasets/cifar10_gpu_aug.py',
]

model = dict(data_preprocessor=dict(_base_.gpu_aug_preprocessor, num_views=1))
train_dataloader = _base_.gpu_aug_train_dataloader
