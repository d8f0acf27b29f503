# SimCLRv2 step 2 with 10% of the CIFAR-10 labels (500 images a class): the
# 1% config with the 10% subset and 30 epochs (the paper fine-tunes 60
# epochs on 1% and 30 on 10% of the labels).
_base_ = ['./simclrv2-ft_r18-cifar_1xb256-lars-60e_cifar10-1pct.py']

train_dataloader = dict(dataset=dict(ann_file='meta/train_10pct_seed0.txt'))
param_scheduler = [dict(_base_.param_scheduler[0], T_max=30, end=30)]
train_cfg = dict(max_epochs=30)
