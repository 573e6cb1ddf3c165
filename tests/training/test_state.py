import random

import numpy as np
import torch

from batikstudio.training.state import capture_rng, optimizer_from_flat, optimizer_to_flat, restore_rng


def test_optimizer_round_trip_gives_identical_next_step():
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=0.01, betas=(0.0, 0.99))
    for _ in range(3):
        net(torch.randn(4, 3)).square().sum().backward()
        opt.step()
        opt.zero_grad()
    tensors, meta = optimizer_to_flat(opt, "opt")
    assert all(k.startswith("opt.") for k in tensors)
    twin = torch.nn.Linear(3, 2)
    twin.load_state_dict(net.state_dict())
    opt2 = torch.optim.Adam(twin.parameters(), lr=0.5)
    optimizer_from_flat(opt2, "opt", tensors, meta)
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["betas"] == (0.0, 0.99)
    x = torch.randn(4, 3)
    for o, m in ((opt, net), (opt2, twin)):
        m(x).square().sum().backward()
        o.step()
    assert torch.equal(net.weight, twin.weight)


def test_rng_round_trip():
    shared = torch.Generator().manual_seed(5)
    tensors, meta = capture_rng(shared)
    a = (torch.rand(3), np.random.rand(), random.random(), torch.rand(2, generator=shared))
    restore_rng(tensors, meta, shared)
    b = (torch.rand(3), np.random.rand(), random.random(), torch.rand(2, generator=shared))
    assert torch.equal(a[0], b[0]) and a[1] == b[1] and a[2] == b[2] and torch.equal(a[3], b[3])
