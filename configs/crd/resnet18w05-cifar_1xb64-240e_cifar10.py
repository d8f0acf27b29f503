# The CRD student's plain cross-entropy twin: the half-width ResNet-18 trained
# on the labels alone, with the teacher's recipe and budget.
_base_ = [
    './resnet18-cifar_1xb64-240e_cifar10.py',
    '../_base_/models/resnet18w05_cifar.py',
]

model = dict(backbone=_base_.resnet18w05_cifar,
             head=dict(in_channels=_base_.resnet18w05_cifar_channels))
