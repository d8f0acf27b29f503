# SimCLRv2 step 2 on ImageNet with SimCLR's 10% subset: the 1% config with
# the 10% file and 30 epochs.
_base_ = ['./simclrv2-ft_r50_8xb128-lars-60e_in1k-1pct.py']

train_dataloader = dict(dataset=dict(ann_file='meta/train_10percent.txt'))
param_scheduler = [dict(_base_.param_scheduler[0], T_max=30, end=30)]
train_cfg = dict(max_epochs=30)
