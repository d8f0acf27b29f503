# CRD + KD (RepDistiller -r 1 -a 1 -b 0.8): CE + KD(T = 4, x T^2) + 0.8 CRD.
_base_ = ['./crd_r18-cifar_to_r18w05-cifar_1xb64-240e_cifar10.py']

model = dict(kd_weight=1.)
