/** Neural-network modules, layers, initialisers, models and optimisers over ts/autograd. */
export { Module } from './module.ts';
export { Conv2d, Linear, BatchNorm2d, ReLU, ReLU6, Identity, MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten, Dropout, Normalize, Sequential, type Conv2dConfig } from './layers.ts';
export { fans, uniform, normal, torchDefaultWeight, kaimingNormal } from './init.ts';
export { SGD, type SgdOptions, type ParamGroup } from './optim.ts';
export { resnet20, ResNet20, BasicBlock, type ResNet20Config } from './models/resnet20.ts';
export { resnet18, ResNet18, type ResNet18Config } from './models/resnet.ts';
